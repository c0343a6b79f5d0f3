package dev.buddy.cli.json;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * A small streaming JSON writer (RFC 8259) with two-space indentation.
 *
 * <p>Output is pure ASCII: every non-ASCII character is written as a {@code \}{@code uXXXX} escape (surrogate pairs as
 * two escapes), so the JSON survives any console encoding; lone surrogates, which strings from a GGUF file can hold,
 * stay escaped too and never become invalid UTF-8. Non-finite numbers, which JSON cannot represent, become
 * {@code null}.
 */
public final class JsonWriter {
    private enum Scope { OBJECT, ARRAY }

    private final StringBuilder out;
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final Deque<Boolean> hasMembers = new ArrayDeque<>();
    private boolean afterName;
    private boolean topLevelDone;

    public JsonWriter(StringBuilder out) {
        this.out = out;
    }

    public JsonWriter beginObject() {
        beforeValue();
        return open(Scope.OBJECT, '{');
    }

    public JsonWriter endObject() {
        return close(Scope.OBJECT, '}');
    }

    public JsonWriter beginArray() {
        beforeValue();
        return open(Scope.ARRAY, '[');
    }

    public JsonWriter endArray() {
        return close(Scope.ARRAY, ']');
    }

    /** The next member's name; must be followed by exactly one value. */
    public JsonWriter name(String name) {
        if (scopes.peek() != Scope.OBJECT || afterName) {
            throw new IllegalStateException("a name belongs directly inside an object, before its value");
        }
        separate();
        quote(name, out);
        out.append(": ");
        afterName = true;
        return this;
    }

    public JsonWriter value(String s) {
        beforeValue();
        if (s == null) {
            out.append("null");
        } else {
            quote(s, out);
        }
        return this;
    }

    public JsonWriter value(long n) {
        beforeValue();
        out.append(n);
        return this;
    }

    public JsonWriter value(double d) {
        beforeValue();
        out.append(Double.isFinite(d) ? Double.toString(d) : "null");
        return this;
    }

    /** A float keeps its own shortest decimal form (1.0E-5, not 9.999999747378752E-6). */
    public JsonWriter value(float f) {
        beforeValue();
        out.append(Float.isFinite(f) ? Float.toString(f) : "null");
        return this;
    }

    public JsonWriter value(boolean b) {
        beforeValue();
        out.append(b);
        return this;
    }

    /** Null, String, Boolean, Long/Integer/Short/Byte, Float, Double, List and Map (String keys), recursively. */
    public JsonWriter value(Object v) {
        switch (v) {
            case null -> value((String) null);
            case String s -> value(s);
            case Boolean b -> value((boolean) b);
            case Float f -> value((float) f);
            case Double d -> value((double) d);
            case Long l -> value((long) l);
            case Integer i -> value((long) i);
            case Short s -> value((long) s);
            case Byte b -> value((long) b);
            case List<?> list -> {
                beginArray();
                for (Object item : list) {
                    value(item);
                }
                endArray();
            }
            case Map<?, ?> map -> {
                beginObject();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    name((String) e.getKey()).value(e.getValue());
                }
                endObject();
            }
            default -> throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
        }
        return this;
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(s, sb);
        return sb.toString();
    }

    private JsonWriter open(Scope scope, char bracket) {
        out.append(bracket);
        scopes.push(scope);
        hasMembers.push(false);
        return this;
    }

    private JsonWriter close(Scope scope, char bracket) {
        if (scopes.peek() != scope || afterName) {
            throw new IllegalStateException("unbalanced " + bracket);
        }
        scopes.pop();
        if (hasMembers.pop()) {
            newline();
        }
        out.append(bracket);
        return this;
    }

    private void beforeValue() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (scopes.peek() == Scope.OBJECT) {
            throw new IllegalStateException("a value inside an object needs a name first");
        }
        if (scopes.peek() == Scope.ARRAY) {
            separate();
        } else if (topLevelDone) {
            throw new IllegalStateException("only one top-level value");
        } else {
            topLevelDone = true;
        }
    }

    private void separate() {
        if (hasMembers.pop()) {
            out.append(',');
        }
        hasMembers.push(true);
        newline();
    }

    private void newline() {
        out.append('\n');
        out.append("  ".repeat(scopes.size()));
    }
}
