package dev.buddy.opencl;

/** Run in a child JVM by {@link AvailabilityTest}: prints what a user would see without OpenCL. */
public final class UnavailableProbe {
    private UnavailableProbe() {}

    public static void main(String[] args) {
        OpenCl.Availability a = OpenCl.availability();
        System.out.println("available=" + a.available());
        System.out.println("reason=" + a.reason());
        System.out.print(OpenClDevices.describe());
    }
}
