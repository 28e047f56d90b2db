package org.malloc4j.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one JSON object (strings, numbers, null, nested objects and arrays, no blanks): enough to check the
 * replay's --json lines.
 */
final class Json {
    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /**
     * @return the object's members; numbers as Double, strings as String, null as null, objects as Map, arrays
     *         as List
     */
    static Map<String, Object> object(String line) {
        Json j = new Json(line.strip());
        Map<String, Object> m = j.parseObject();
        if (j.i != j.s.length()) throw j.error("text after the object");
        return m;
    }

    private Map<String, Object> parseObject() {
        Map<String, Object> m = new LinkedHashMap<>();
        expect('{');
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            String key = parseString();
            expect(':');
            if (m.put(key, parseValue()) != null) throw error("duplicate key " + key);
            char c = s.charAt(i++);
            if (c == '}') return m;
            if (c != ',') throw error("expected , or }");
        }
    }

    private Object parseValue() {
        char c = peek();
        if (c == '"') return parseString();
        if (c == '{') return parseObject();
        if (c == '[') return parseArray();
        if (s.startsWith("null", i)) {
            i += 4;
            return null;
        }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
        if (start == i) throw error("expected a value");
        return Double.parseDouble(s.substring(start, i));
    }

    private List<Object> parseArray() {
        List<Object> list = new ArrayList<>();
        expect('[');
        if (peek() == ']') {
            i++;
            return list;
        }
        while (true) {
            list.add(parseValue());
            char c = s.charAt(i++);
            if (c == ']') return list;
            if (c != ',') throw error("expected , or ]");
        }
    }

    private String parseString() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = s.charAt(i++);
            if (c == '"') return sb.toString();
            if (c < 0x20) throw error("raw control character in a string");
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    i += 4;
                }
                default -> throw error("bad escape \\" + e);
            }
        }
    }

    private char peek() {
        return s.charAt(i);
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c) throw error("expected " + c);
        i++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at " + i + " in " + s);
    }
}
