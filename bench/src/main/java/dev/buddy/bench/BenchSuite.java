package dev.buddy.bench;

import java.util.Collection;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * The JMH suite's entry point ({@code java -jar bench/target/benchmarks.jar [JMH options]}): runs the benchmarks with
 * JMH's usual command-line options (a regex, {@code -p format=Q4_0,Q8_0}, {@code -p threads=1}, {@code -f},
 * {@code -wi}, {@code -i}, {@code -rf json}, {@code -l}, {@code -h}), then prints {@link BenchReport}'s table: GB/s
 * of weights streamed, GFLOP/s and each kernel's fraction of the measured memory bandwidth.
 */
public final class BenchSuite {
    private BenchSuite() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        Runner runner = new Runner(options);
        if (options.shouldHelp()) {
            options.showHelp();
            return;
        }
        if (options.shouldList()) {
            runner.list();
            return;
        }
        if (options.shouldListWithParams()) {
            runner.listWithParams(options);
            return;
        }
        if (options.shouldListProfilers() || options.shouldListResultFormats()) {
            // Delegates the remaining informational flags to JMH's own main.
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Collection<RunResult> results = runner.run();
        System.out.println();
        System.out.print(BenchReport.markdown(BenchReport.rows(results)));
    }
}
