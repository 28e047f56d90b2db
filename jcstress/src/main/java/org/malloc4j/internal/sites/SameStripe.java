package org.malloc4j.internal.sites;

/** Addresses that {@link LiveRecords} files in one stripe, for the tests that make its writers and readers meet. */
final class SameStripe {
    private SameStripe() {}

    /**
     * @param sameHome whether the addresses must also share their first probed slot in a table of the first capacity,
     *        so that they lie in one run of slots in the order they are added
     * @return {@code n} addresses from 16 up, 16 apart at least, in the stripe of address 16
     */
    static long[] addresses(int n, boolean sameHome) {
        long h = LiveRecords.hash(16);
        int capacity = LiveRecords.FIRST_CAPACITY;
        long[] out = new long[n];
        int found = 0;
        for (long a = 16; found < n; a += 16) {
            long ha = LiveRecords.hash(a);
            if (LiveRecords.stripeIndex(ha) == LiveRecords.stripeIndex(h)
                    && (!sameHome || LiveRecords.home(ha, capacity) == LiveRecords.home(h, capacity))) {
                out[found++] = a;
            }
        }
        return out;
    }
}
