package org.malloc4j.bench;

/**
 * What {@code scripts/bench.sh} asks before it runs JMH, so that an allocator that cannot run here is skipped with
 * its reason printed rather than failing in the middle of a run.
 *
 * <ul>
 *   <li>{@code Probe --jvm-flags}: prints {@link BenchFlags#ALL}, one a line (the flags the probe itself must run with);</li>
 *   <li>{@code Probe [NAME...]}: for each allocator (all of {@link Subject#NAMES} by default), opens it, allocates,
 *   writes and frees one block, and prints {@code ok NAME} or {@code skip NAME REASON}; then prints Netty's status
 *   (Unsafe on or off) as a line starting with {@code info}.</li>
 * </ul>
 */
public final class Probe {
    private Probe() {}

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("--jvm-flags")) {
            for (String f : BenchFlags.ALL) System.out.println(f);
            return;
        }
        String[] names = args.length == 0 ? Subject.NAMES : args;
        for (String name : names) {
            String reason;
            try {
                reason = Subject.unavailableReason(name);
            } catch (RuntimeException | LinkageError e) {
                reason = name + " failed: " + e;
            }
            System.out.println(reason == null ? "ok " + name : "skip " + name + " " + reason.replace('\n', ' '));
        }
        System.out.println("info " + Subject.nettyStatus());
    }
}
