package org.malloc4j.internal.monitor;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/** JFR: a heap's figures, emitted periodically for every open heap. */
@Name("org.malloc4j.HeapStatistics")
@Label("Heap Statistics")
@Category({"malloc4j"})
@Description("A malloc4j heap's figures")
@Period("1 s")
@StackTrace(false)
public final class HeapStatisticsEvent extends jdk.jfr.Event {
    @Label("Heap")
    public String heap;
    @Label("Live")
    @DataAmount
    public long live;
    @Label("Peak Live")
    @DataAmount
    public long peakLive;
    @Label("Committed")
    @DataAmount
    public long committed;
    @Label("Retained")
    @Description("Committed bytes in free page runs, waiting for the decay time")
    @DataAmount
    public long retained;
    @Label("Resident")
    @Description("Bytes of the heap's range resident in RAM, as the kernel reports them (mincore)")
    @DataAmount
    public long resident;
    @Label("Reserved")
    @DataAmount
    public long reserved;
    @Label("Mallocs")
    public long mallocs;
    @Label("Frees")
    public long frees;
    @Label("Purges")
    public long purges;
    @Label("Largest Free Block")
    @DataAmount
    public long largestFreeBlock;
    @Label("External Fragmentation")
    @Percentage
    public double externalFragmentation;
    @Label("Utilization")
    @Description("Peak live bytes / peak committed bytes (the malloc-lab measure)")
    @Percentage
    public double utilization;
}
