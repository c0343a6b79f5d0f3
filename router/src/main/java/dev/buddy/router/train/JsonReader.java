package dev.buddy.router.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON parser (RFC 8259) that knows where it is, so a malformed data file is reported by line and
 * column. Objects become insertion-ordered maps, arrays lists, numbers doubles, {@code null} Java null.
 */
final class JsonReader {
    private final String source;
    private final String text;
    private int pos;
    private int line = 1;
    private int lineStart;

    /** @param source names the input in error messages (a file name) */
    JsonReader(String source, String text) {
        this.source = source;
        this.text = text;
        if (text.startsWith("\uFEFF")) {
            pos = 1;
            lineStart = 1;
        }
    }

    /** The line (1-based) of the next unread character. */
    int line() {
        return line;
    }

    /** The column (1-based) of the next unread character. */
    int column() {
        return pos - lineStart + 1;
    }

    /** Skips white space; true if the input has ended. */
    boolean atEnd() {
        skipSpace();
        return pos >= text.length();
    }

    /** Reads one whole value. */
    Object readValue() {
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> readObject();
            case '[' -> readArray();
            case '"' -> readString();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield readNumber();
                }
                throw error("unexpected character '" + printable(c) + "', expected a value");
            }
        };
    }

    /** Consumes {@code expected} after optional white space, or fails naming what was found. */
    void expect(char expected) {
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end of input, expected '" + expected + "'");
        }
        char c = text.charAt(pos);
        if (c != expected) {
            throw error("expected '" + expected + "' but found '" + printable(c) + "'");
        }
        pos++;
    }

    /** After optional white space, consumes {@code c} if it is next. */
    boolean consume(char c) {
        skipSpace();
        if (pos < text.length() && text.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private Map<String, Object> readObject() {
        expect('{');
        Map<String, Object> map = new LinkedHashMap<>();
        if (consume('}')) {
            return map;
        }
        do {
            skipSpace();
            if (pos >= text.length() || text.charAt(pos) != '"') {
                throw error("expected a quoted field name");
            }
            String key = readString();
            expect(':');
            map.put(key, readValue());
        } while (consume(','));
        expect('}');
        return map;
    }

    private List<Object> readArray() {
        expect('[');
        List<Object> list = new ArrayList<>();
        if (consume(']')) {
            return list;
        }
        do {
            list.add(readValue());
        } while (consume(','));
        expect(']');
        return list;
    }

    private String readString() {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                if (pos >= text.length()) {
                    throw error("unterminated escape in string");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) {
                            throw error("truncated \\u escape");
                        }
                        try {
                            sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("invalid \\u escape '" + text.substring(pos, pos + 4) + "'");
                        }
                        pos += 4;
                    }
                    default -> throw error("invalid escape '\\" + printable(e) + "'");
                }
            } else if (c < 0x20) {
                pos--;
                throw error("control character " + (int) c + " inside a string (must be escaped)");
            } else {
                sb.append(c);
            }
        }
    }

    private Double readNumber() {
        int start = pos;
        if (text.charAt(pos) == '-') {
            pos++;
        }
        while (pos < text.length() && "0123456789.eE+-".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
        String number = text.substring(start, pos);
        if (!number.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
            pos = start;
            throw error("invalid number '" + number + "'");
        }
        return Double.valueOf(number);
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected character '" + printable(text.charAt(pos)) + "', expected a value");
        }
        pos += word.length();
        return value;
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
                lineStart = pos + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** A data error at the current position. */
    TrainingDataException error(String message) {
        return new TrainingDataException(source + ": line " + line + ", column " + column() + ": " + message);
    }

    private static String printable(char c) {
        return c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
