package org.malloc4j.internal.monitor;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: free pages were given back to the OS ({@code madvise(MADV_DONTNEED)}). */
@Name("org.malloc4j.Purge")
@Label("Purge")
@Category({"malloc4j"})
@Description("Free pages of a heap were given back to the OS")
@StackTrace(false)
public final class PurgeEvent extends jdk.jfr.Event {
    @Label("Heap")
    public String heap;
    @Label("Bytes")
    @DataAmount
    public long bytes;
}
