package org.malloc4j.internal.sites;

import java.util.Arrays;
import java.util.List;

/** An allocation site: the caller's frames, outermost last; interned, so that a site's records share its frames. */
public final class Site {
    private final StackTraceElement[] frames;
    private final int hash;

    Site(StackTraceElement[] frames) {
        this.frames = frames;
        this.hash = Arrays.hashCode(frames);
    }

    /** @return the frames, innermost (the call to the heap's caller) first */
    public List<StackTraceElement> frames() {
        return List.of(frames);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Site s && s.hash == hash && Arrays.equals(s.frames, frames);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** @return the frames, one per line, each prefixed with {@code indent} */
    public String render(String indent) {
        if (frames.length == 0) return indent + "(no frames outside malloc4j)\n";
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement f : frames) sb.append(indent).append("at ").append(f).append('\n');
        return sb.toString();
    }

    @Override
    public String toString() {
        return frames.length == 0 ? "(unknown site)" : frames[0].toString();
    }
}
