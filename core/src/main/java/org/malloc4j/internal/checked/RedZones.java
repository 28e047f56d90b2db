package org.malloc4j.internal.checked;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.malloc4j.internal.os.Memory;

/**
 * The layout of a checked block and its canaries. A block of {@code size} bytes asked with alignment {@code A}
 * (16 at least) is a block of the engine of {@code A + size + 16} bytes at {@code b}; the program gets
 * {@code p = b + A}:
 *
 * <pre>
 *  b                          p - 16         p                    p + size        p + size + 16
 *  | marker (A > 16 only) ... | h0   | h1    | the program's bytes | tail canary   |
 * </pre>
 *
 * <p>{@code h0} holds the size (48 bits), a generation (8 bits), log2(A) and a FREED bit; {@code h1} is a keyed hash
 * of the heap's secret, {@code p} and {@code h0} without that bit. Together they are the front red zone: any change to
 * them (an underflow, or a stray write) makes the check fail, and because {@code h1} depends on {@code p}, a header
 * copied elsewhere does not validate. The tail canary is 16 bytes of a pattern derived from the secret. When
 * {@code A > 16}, the word at {@code b} is a marker that lets a walk of the engine's blocks find {@code p}.
 *
 * <p>The generation is one more than that of the header last written at the same place, so a block reallocated at
 * the same address, with the same size, does not get the same {@code h0} back: a free that read the header before
 * the block was freed, quarantined, released and reallocated (a double free racing with the block's reuse) fails its
 * compare-and-set instead of freeing the new owner's block. Without it, the jcstress test of two concurrent frees
 * of one block saw both succeed in 0.04-0.07% of samples once the quarantine cycled fast enough; 256 reuses of one
 * address within one free's window would be needed now.
 */
final class RedZones {
    static final int HEADER = 16;
    static final int TAIL = 16;
    static final long FREED = 1L << 62;
    /**
     * Set in the header of a block that holds an arena's segment, or a thread stack's frames: freed through its arena
     * (or by the heap's stacks) only. Not bit 63: with the
     * one-multiply check word, flipping bit 63 of h0 flips exactly bit 63 of h1 (2^63 * odd = 2^63 mod 2^64), so a
     * write that flips the sign of both words would leave a valid header; bit 63 stays one that must be clear.
     */
    static final long ARENA = 1L << 61;
    private static final int LOG_SHIFT = 56;
    private static final int GENERATION_SHIFT = 48;
    private static final long GENERATION_BITS = 0xFFL << GENERATION_SHIFT;
    /** The largest size a header holds: 256 TiB, far beyond any heap's reservation. */
    static final long SIZE_MASK = (1L << GENERATION_SHIFT) - 1;
    static final byte JUNK = (byte) 0xA5;
    static final byte POISON = (byte) 0xDF;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final long secret;
    private final long tail0, tail1, marker;

    RedZones(long secret) {
        this.secret = secret;
        this.tail0 = mix(secret + 0x9E3779B97F4A7C15L);
        this.tail1 = mix(secret + 0x3C6EF372FE94F82AL);
        this.marker = mix(secret ^ 0x6A09E667F3BCC909L);
    }

    static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        return x ^ (x >>> 33);
    }

    static long h0(long size, int logAlign) {
        return size | (long) logAlign << LOG_SHIFT;
    }

    /** @return the generation bits of a header word (to rebuild an expected header around them) */
    static long generation(long h0) {
        return h0 & GENERATION_BITS;
    }

    static long sizeOf(long h0) {
        return h0 & SIZE_MASK;
    }

    static long frontOf(long h0) {
        return 1L << ((h0 >>> LOG_SHIFT) & 31);
    }

    /**
     * The keyed check word of a header. One multiply, not {@link #mix}: multiplying by an odd constant is a bijection,
     * so any change to {@code h0} (FREED aside) changes the word, and {@code p} and the secret enter it whole, so a
     * header copied to another block, or written by a program that does not know the secret, fails. The red zone
     * guards against mistakes, not adversaries: it needs no avalanche, and the two multiplies and three shifts of the
     * mix, computed at every malloc, free and eviction, were about 2 ns of a 45 ns CHECKED 16-byte pair.
     */
    long h1(long p, long h0) {
        return secret ^ p ^ (h0 & ~FREED) * H1_FACTOR;
    }

    private static final long H1_FACTOR = 0x9E3779B97F4A7C15L;
    /** The inverse of {@link #H1_FACTOR} modulo 2^64 (Newton's iteration: each step doubles its right bits). */
    private static final long H1_INVERSE;

    static {
        long x = H1_FACTOR; // right in its low 3 bits, as any odd number is its own inverse modulo 8
        for (int i = 0; i < 5; i++) x *= 2 - H1_FACTOR * x;
        H1_INVERSE = x;
    }

    /**
     * @return whether the header before {@code p}, which does not validate, is one being written by {@link #arm}: the
     *         header word already new and the check word still that of the block's previous header there, of the
     *         generation before (the check word is inverted back to the header word it was made for). For a
     *         concurrent verify(), which must not report a malloc in progress as damage.
     */
    boolean beingArmed(long p, long size, int logAlign) {
        long h0 = Memory.getLong(p - 16);
        long made = (Memory.getLong(p - 8) ^ secret ^ p) * H1_INVERSE; // the header word that check word was made for
        // The new word must be the very one arm() writes for this block (its size and front, as the engine sizes it,
        // the next generation, FREED clear): a stray write whose generation byte happens to match is damage
        return (made & FREED) == 0 && wellFormed(made)
                && (h0 & ~ARENA) == (h0(size, logAlign) | generation(made + (1L << GENERATION_SHIFT)));
    }

    /** @return true when the header before {@code p} is intact (whether the block is live or freed) */
    boolean headerIntact(long p) {
        long h0 = Memory.getLong(p - 16);
        return Memory.getLong(p - 8) == h1(p, h0) && wellFormed(h0);
    }

    /** @return whether a header word has no bit outside its fields and a front of 16 B to 4 KiB */
    private static boolean wellFormed(long h0) {
        long log = (h0 >>> LOG_SHIFT) & 31;
        return (h0 & ~(FREED | ARENA | SIZE_MASK | GENERATION_BITS | (31L << LOG_SHIFT))) == 0 && log >= 4
                && log <= 12;
    }

    /**
     * Writes the header ({@link #ARENA} set when {@code arena}), the tail canary and, for a front larger than the
     * header, the marker at {@code b}.
     */
    void arm(long b, long p, long size, int logAlign, boolean arena) {
        // The word is the engine's block's own memory: a previous header here, or anything else (any value will do).
        long h0 = h0(size, logAlign) | (Memory.getLong(p - 16) + (1L << GENERATION_SHIFT)) & GENERATION_BITS
                | (arena ? ARENA : 0);
        // The marker and the tail first: a concurrent verify() that finds the new header valid finds them new too
        if (p - b > HEADER) Memory.putLong(b, marker ^ (p - b));
        Memory.putLong(p + size, tail0);
        Memory.putLong(p + size + 8, tail1);
        Memory.putLong(p - 16, h0);
        LONG.setRelease(Memory.ALL, p - 8, h1(p, h0));
    }

    /** Marks the live block at {@code p} freed; false when it already was (or its header changed meanwhile). */
    boolean markFreed(long p, long h0) {
        return (h0 & FREED) == 0 && LONG.compareAndSet(Memory.ALL, p - 16, h0, h0 | FREED);
    }

    /** @return the offset from {@code p} of the first damaged tail byte, or -1 when the tail is intact */
    long tailDamage(long p, long size) {
        return tailDamage(p, size, tail0, tail1);
    }

    /**
     * A freed block's tail canary is the live one with {@link #FREED_TAIL} mixed in, so that a block whose header
     * was overwritten can still be told live or freed (by its tail, found from the engine's size, not the header's).
     */
    private static final long FREED_TAIL = 0x5A5A_F4EE_D7A1_15A5L;

    /** Marks the tail canary of the block at {@code p} freed ({@link #FREED_TAIL}); its header is marked already. */
    void freeTail(long p, long size) {
        Memory.putLong(p + size, tail0 ^ FREED_TAIL);
        Memory.putLong(p + size + 8, tail1 ^ FREED_TAIL);
    }

    /**
     * @return whether either word of the tail canary of the block at {@code p} still holds the live pattern: for a
     *         block marked FREED, its free is still under way (the freed tail is written last, a word at a time)
     */
    boolean tailStillLive(long p, long size) {
        return Memory.getLong(p + size) == tail0 || Memory.getLong(p + size + 8) == tail1;
    }

    /** @return as {@link #tailDamage}, against a freed block's tail ({@link #freeTail}) */
    long freedTailDamage(long p, long size) {
        return tailDamage(p, size, tail0 ^ FREED_TAIL, tail1 ^ FREED_TAIL);
    }

    private static long tailDamage(long p, long size, long t0, long t1) {
        long a = Memory.getLong(p + size) ^ t0;
        if (a != 0) return size + Long.numberOfTrailingZeros(a) / 8;
        long c = Memory.getLong(p + size + 8) ^ t1;
        if (c != 0) return size + 8 + Long.numberOfTrailingZeros(c) / 8;
        return -1;
    }

    /**
     * @return the program address of the engine block at {@code b}, whose engine request is {@code limit} bytes, or 0
     *         when neither layout validates (a damaged front red zone). An aligned block whose marker was overwritten
     *         (an overflow of the block before it that ran past its tail canary) but whose header is intact is found
     *         by that header: the largest front whose header validates, names that front and fits in the block (a
     *         stale header further in, in the unwritten part of the front, is never preferred to the real one).
     */
    long programAddress(long b, long limit) {
        if (headerIntact(b + HEADER)) return b + HEADER;
        long front = markerFront(b);
        if (front != 0) return headerIntact(b + front) ? b + front : 0;
        for (long f = 4096; f > HEADER; f >>= 1) {
            if (f + TAIL > limit || !headerIntact(b + f)) continue;
            long h0 = Memory.getLong(b + f - 16);
            if (frontOf(h0) == f && f + sizeOf(h0) + TAIL <= limit) return b + f;
        }
        return 0;
    }

    /**
     * @return the offset from {@code b} of the first byte of the marker of the aligned block at {@code b} (front
     *         {@code front} above 16) that differs from what was written, or -1 when it is intact
     */
    long markerDamage(long b, long front) {
        long diff = Memory.getLong(b) ^ marker ^ front;
        return diff == 0 ? -1 : Long.numberOfTrailingZeros(diff) / 8;
    }

    /** @return the front size the marker at {@code b} records (32 to 4096), or 0 when there is no valid marker */
    long markerFront(long b) {
        long front = Memory.getLong(b) ^ marker;
        return front > HEADER && front <= 4096 && Long.bitCount(front) == 1 ? front : 0;
    }

    /**
     * Below this many bytes a fill is at most eight word stores, overlapping where the size is not a multiple of their
     * span, with no loop, and the poison check as many loads or-ed together; from it the JDK's fill (a copy of a
     * template from {@link #VECTOR_FROM}) and a word loop. Loops cost more than their stores below it: a loop of two
     * turns was half of a CHECKED 16-byte pair's samples (JFR), and the stores took a 16-byte pair to 0.91x, 32-byte
     * 0.82x, 48-byte 0.79x its time, 64-byte (not changed) 0.98x (`BuildsInTurn`, 2026-12-07); four words a turn from
     * 64 bytes up took a 256-byte pair to 1.31x, where the JDK's fill stores a vector at a time.
     */
    private static final long STORES_BELOW = 64;
    /** From this size the poison check is one vectorized pass ({@link Memory#wordsEqual}), below it a word loop. */
    private static final long VECTOR_FROM = 512;
    private static final long JUNK_WORD = 0xA5A5A5A5A5A5A5A5L;
    private static final long POISON_WORD = 0xDFDFDFDFDFDFDFDFL;

    private static final MemorySegment JUNK_TEMPLATE = Memory.template(JUNK);
    private static final MemorySegment POISON_TEMPLATE = Memory.template(POISON);

    static void junk(long p, long size) {
        fill(p, size, JUNK, JUNK_WORD, JUNK_TEMPLATE);
    }

    static void poison(long p, long size) {
        fill(p, size, POISON, POISON_WORD, POISON_TEMPLATE);
    }

    private static void fill(long p, long size, byte value, long word, MemorySegment template) {
        if (size >= STORES_BELOW) {
            Memory.fill(p, size, value, template);
        } else if (size >= 32) {
            putFour(p, word);
            putFour(p + size - 32, word);
        } else if (size >= 8) {
            Memory.putLong(p, word);
            Memory.putLong(p + size - 8, word);
            if (size > 16) {
                Memory.putLong(p + 8, word);
                Memory.putLong(p + size - 16, word);
            }
        } else if (size >= 4) {
            Memory.putInt(p, (int) word);
            Memory.putInt(p + size - 4, (int) word);
        } else {
            for (long off = 0; off < size; off++) Memory.ALL.set(ValueLayout.JAVA_BYTE, p + off, value);
        }
    }

    private static void putFour(long a, long word) {
        Memory.putLong(a, word);
        Memory.putLong(a + 8, word);
        Memory.putLong(a + 16, word);
        Memory.putLong(a + 24, word);
    }

    /** @return the bits that differ from {@code word} in the four words at {@code a}, or-ed together */
    private static long differsFour(long a, long word) {
        return (Memory.getLong(a) ^ word) | (Memory.getLong(a + 8) ^ word) | (Memory.getLong(a + 16) ^ word)
                | (Memory.getLong(a + 24) ^ word);
    }

    /** @return the offset of the first byte in {@code [p, p + size)} that is not poison, or -1 */
    static long poisonDamage(long p, long size) {
        // Below STORES_BELOW bytes the words the fill stored are or-ed together, with no early exit; only when one
        // differs does the loop of poisonDamageAt run to find the byte
        long diff;
        if (size >= STORES_BELOW || size < 8) return poisonDamageAt(p, size);
        if (size >= 32) {
            diff = differsFour(p, POISON_WORD) | differsFour(p + size - 32, POISON_WORD);
        } else {
            diff = (Memory.getLong(p) ^ POISON_WORD) | (Memory.getLong(p + size - 8) ^ POISON_WORD);
            if (size > 16) diff |= (Memory.getLong(p + 8) ^ POISON_WORD) | (Memory.getLong(p + size - 16) ^ POISON_WORD);
        }
        return diff == 0 ? -1 : poisonDamageAt(p, size);
    }

    private static long poisonDamageAt(long p, long size) {
        long words = size & ~7L, off = 0;
        // From 512 bytes one vectorized pass says whether any word changed (nearly always not), and the loop below,
        // which stops at the first changed word, runs only to find it.
        if (size >= VECTOR_FROM && Memory.wordsEqual(p, words, POISON_WORD)) off = words;
        MemorySegment block = Memory.ALL.asSlice(p, size);
        for (; off < words; off += 8) {
            long diff = block.get(ValueLayout.JAVA_LONG_UNALIGNED, off) ^ POISON_WORD;
            if (diff != 0) return off + Long.numberOfTrailingZeros(diff) / 8;
        }
        for (; off < size; off++) if (block.get(ValueLayout.JAVA_BYTE, off) != POISON) return off;
        return -1;
    }
}
