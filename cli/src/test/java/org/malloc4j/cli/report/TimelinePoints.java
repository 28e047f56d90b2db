package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a report page's timeline lines back, for tests: each point's height above the axis (y = 280 at 0 bytes). */
public final class TimelinePoints {
    private TimelinePoints() {}

    /** @return the heights of the points of the first timeline line of class {@code line} in {@code html} */
    public static double[] heights(String html, String line) {
        Matcher m = Pattern.compile("<polyline class=\"" + line + "\"[^>]*points=\"([^\"]*)\"").matcher(html);
        assertThat(m.find()).as("a %s line", line).isTrue();
        String[] points = m.group(1).trim().split(" ");
        double[] heights = new double[points.length];
        for (int i = 0; i < points.length; i++) {
            heights[i] = 280 - Double.parseDouble(points[i].substring(points[i].indexOf(',') + 1));
        }
        return heights;
    }

    /** @return the height of the line's highest point */
    public static double highest(String html, String line) {
        double top = 0;
        for (double h : heights(html, line)) top = Math.max(top, h);
        return top;
    }

    /** @return the height of the line's last point */
    public static double last(String html, String line) {
        double[] h = heights(html, line);
        return h[h.length - 1];
    }
}
