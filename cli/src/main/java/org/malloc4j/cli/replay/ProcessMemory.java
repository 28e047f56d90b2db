package org.malloc4j.cli.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory as Linux sees it: {@code VmRSS} and its high-water mark {@code VmHWM} from
 * {@code /proc/self/status}. Writing {@code 5} to {@code /proc/self/clear_refs} resets the high-water mark to the
 * current RSS, so that each trace's peak is its own even when several run in one JVM. Elsewhere the figures are
 * -1 ("not available").
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() {}

    /** @return resident bytes now, or -1 */
    public static long rssBytes() {
        return field("VmRSS:");
    }

    /** @return the most resident bytes since the start or the last {@link #resetPeak()}, or -1 */
    public static long peakRssBytes() {
        return field("VmHWM:");
    }

    /** Resets the high-water mark to the current RSS. @return whether the kernel allowed it */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    String v = line.substring(name.length()).trim();
                    int sp = v.indexOf(' ');
                    long kb = Long.parseLong(sp < 0 ? v : v.substring(0, sp));
                    return kb * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
