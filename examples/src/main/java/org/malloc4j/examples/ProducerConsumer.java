package org.malloc4j.examples;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;

/**
 * Producer threads {@code malloc} blocks and fill them; consumer threads take the addresses from a
 * {@link BlockingQueue}, check the contents and {@code free} them. Every free is a cross-thread free: the block was
 * allocated by another thread's cache, and malloc4j hands it back to its owner without a lock (see
 * docs/architecture.md, "Cross-thread free").
 *
 * <p>The queue is bounded, so at most about {@code queueCapacity} blocks are alive at once: the heap's committed
 * memory stays bounded by that, however many blocks go through. The run prints the bytes that went through the
 * queue next to the heap's peak committed bytes.
 *
 * <p>Run: {@code scripts/example.sh ProducerConsumer [PRODUCERS CONSUMERS BLOCKS_PER_PRODUCER]}.
 */
public final class ProducerConsumer {
    private ProducerConsumer() {}

    /**
     * A block in flight: its address and size, and the seed its contents were made from. {@code address == 0}
     * tells a consumer to stop.
     */
    record Block(long address, long size, long seed) {}

    private static final Block STOP = new Block(0, 0, 0);

    /**
     * What a run did.
     *
     * @param produced blocks allocated and filled by the producers
     * @param consumed blocks checked and freed by the consumers
     * @param corrupt blocks whose contents were not what their producer wrote (0 in a correct run)
     * @param bytesThroughQueue sum of the sizes of all the blocks
     * @param stats the heap's figures once every thread has finished
     */
    public record Result(long produced, long consumed, long corrupt, long bytesThroughQueue, HeapStats stats) {}

    /**
     * Runs {@code producers} producer threads, each allocating {@code blocksPerProducer} blocks of 16 bytes to
     * 64 KiB, and {@code consumers} consumer threads freeing them, through a queue of {@code queueCapacity} entries.
     *
     * <p>A thread that fails (a producer whose {@code malloc} finds the heap's limit reached, for one) does not
     * stop the others: the producers make their blocks, the consumers take all of them, and then {@code run} throws
     * what the first failing thread threw, the others' failures {@linkplain Throwable#getSuppressed() suppressed} in
     * it.
     *
     * @throws IllegalArgumentException if there is not at least one producer and one consumer, the blocks are
     *         negative or the queue holds nothing (with no consumer the producers would wait on a full queue for ever)
     * @throws org.malloc4j.HeapExhaustedException if a producer could not allocate a block (or whatever else a
     *         producer or consumer thread threw)
     */
    public static Result run(Heap heap, int producers, int consumers, int blocksPerProducer, int queueCapacity)
            throws InterruptedException {
        if (producers < 1 || consumers < 1 || blocksPerProducer < 0 || queueCapacity < 1) {
            throw new IllegalArgumentException("need producers >= 1, consumers >= 1, blocks >= 0, queue >= 1: got "
                    + producers + ", " + consumers + ", " + blocksPerProducer + ", " + queueCapacity);
        }
        BlockingQueue<Block> queue = new ArrayBlockingQueue<>(queueCapacity);
        AtomicLong produced = new AtomicLong();
        AtomicLong consumed = new AtomicLong();
        AtomicLong corrupt = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        // The first failure of a producer or consumer, rethrown once every thread has finished: left to the threads'
        // default handler it was only printed, and run returned a partial result as if all had gone well.
        AtomicReference<Throwable> failure = new AtomicReference<>();

        List<Thread> producerThreads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            long streamSeed = 1000L + p;
            producerThreads.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
                SplittableRandom random = new SplittableRandom(streamSeed);
                try {
                    for (int i = 0; i < blocksPerProducer; i++) {
                        // Mostly small blocks (slabs), now and then a medium one (a run of pages).
                        long size = random.nextInt(16) == 0 ? random.nextLong(32 * 1024, 64 * 1024 + 1)
                                : random.nextLong(16, 1024 + 1);
                        long seed = random.nextLong();
                        long address = heap.malloc(size);
                        fill(address, size, seed);
                        produced.incrementAndGet();
                        bytes.addAndGet(size);
                        queue.put(new Block(address, size, seed));   // waits while the queue is full
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) { // HeapExhaustedException: this producer stops, the others go on
                    failed(failure, t);
                }
            }));
        }
        List<Thread> consumerThreads = new ArrayList<>();
        for (int c = 0; c < consumers; c++) {
            consumerThreads.add(Thread.ofPlatform().name("consumer-" + c).start(() -> {
                try {
                    for (Block b = queue.take(); b != STOP; b = queue.take()) {
                        try {
                            if (!check(b.address(), b.size(), b.seed())) corrupt.incrementAndGet();
                            heap.free(b.address());                  // freed by a thread that did not allocate it
                            consumed.incrementAndGet();
                        } catch (Throwable t) { // go on taking blocks: a dead consumer could leave producers waiting
                            failed(failure, t);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread t : producerThreads) t.join();
        for (int c = 0; c < consumers; c++) queue.put(STOP);
        for (Thread t : consumerThreads) t.join();
        Throwable error = failure.get();
        if (error instanceof RuntimeException e) throw e;
        if (error instanceof Error e) throw e;
        if (error != null) throw new IllegalStateException(error);
        return new Result(produced.get(), consumed.get(), corrupt.get(), bytes.get(), heap.stats());
    }

    /** Keeps the first failure, the later ones suppressed in it. */
    private static void failed(AtomicReference<Throwable> failure, Throwable t) {
        Throwable first = failure.compareAndExchange(null, t);
        if (first != null && first != t) first.addSuppressed(t); // synchronized in Throwable
    }

    /** Writes a pattern made from {@code seed}: one long every 8 bytes, then the last bytes. */
    private static void fill(long address, long size, long seed) {
        MemorySegment block = segment(address, size);
        long x = seed;
        for (long off = 0; off + 8 <= size; off += 8) {
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, off, x);
            x = next(x);
        }
        for (long off = size & ~7L; off < size; off++) block.set(ValueLayout.JAVA_BYTE, off, (byte) seed);
    }

    /** Checks the pattern {@link #fill} wrote. */
    private static boolean check(long address, long size, long seed) {
        MemorySegment block = segment(address, size);
        long x = seed;
        for (long off = 0; off + 8 <= size; off += 8) {
            if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, off) != x) return false;
            x = next(x);
        }
        for (long off = size & ~7L; off < size; off++) {
            if (block.get(ValueLayout.JAVA_BYTE, off) != (byte) seed) return false;
        }
        return true;
    }

    private static long next(long x) {
        return x * 0x9E3779B97F4A7C15L + 1;
    }

    @SuppressWarnings("restricted")
    private static MemorySegment segment(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /** Runs the example on a heap of its own and prints the heap's figures. */
    public static void main(String[] args) throws InterruptedException {
        int producers = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int consumers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int blocks = args.length > 2 ? Integer.parseInt(args[2]) : 250_000;
        try (Heap heap = Heap.create()) {
            long start = System.nanoTime();
            Result r = run(heap, producers, consumers, blocks, 1024);
            double seconds = (System.nanoTime() - start) / 1e9;
            HeapStats s = r.stats();
            System.out.printf("%d producers -> %d consumers: %,d blocks made, %,d checked and freed, %d corrupt "
                    + "(%.2f s)%n", producers, consumers, r.produced(), r.consumed(), r.corrupt(), seconds);
            System.out.printf("bytes through the queue: %,d%n", r.bytesThroughQueue());
            System.out.printf("peak committed:          %,d (%s of that; peak live %,d)%n", s.peakCommittedBytes(),
                    r.bytesThroughQueue() == 0 ? "nothing went through"
                            : String.format("%.3f%%", 100.0 * s.peakCommittedBytes() / r.bytesThroughQueue()),
                    s.peakLiveBytes());
            System.out.printf("at the end: %,d live bytes, %,d live blocks, %,d committed, %d thread caches%n",
                    s.liveBytes(), s.liveBlocks(), s.committedBytes(), s.threadCaches());
        }
    }
}
