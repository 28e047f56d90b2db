package org.malloc4j.arrow;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;

/** Real Arrow work on malloc4j: vectors of millions of rows, written to an IPC stream and read back. */
class ArrowIpcTest {
    private static final int ROWS = 2_000_000;

    @Test
    void vectorsOfTwoMillionRowsHoldTheirValuesInAlignedHeapBlocks() {
        try (Heap heap = Heap.builder().name("arrow-vectors").build()) {
            try (BufferAllocator allocator = Rows.rootAllocator(Malloc4jAllocationManager.factory(heap));
                 IntVector ids = new IntVector("id", allocator);
                 VarCharVector names = new VarCharVector("name", allocator)) {
                ids.allocateNew(1024); // small on purpose: setSafe grows them by reallocation, many times
                names.allocateNew(1024 * 8L, 1024);
                Rows.fill(ids, names, 0, ROWS);
                long mallocs = heap.stats().mallocCount();

                assertThat(Rows.firstMismatch(ids, names, 0, ROWS)).isEqualTo(-1);
                assertThat(ids.get(1)).isEqualTo(Rows.id(1));
                assertThat(names.getObject(0).toString()).isEqualTo("r0-é€");
                assertThat(names.getObject(ROWS - 1).toString()).isEqualTo(Rows.name(ROWS - 1));
                assertThat(ids.isNull(5)).isTrue();
                assertThat(names.isNull(3)).isTrue();
                assertThat(mallocs).as("the vectors grew by reallocation").isGreaterThan(20);

                long inUse = 0;
                for (FieldVector v : List.<FieldVector>of(ids, names)) {
                    for (ArrowBuf b : v.getFieldBuffers()) {
                        assertThat(b.memoryAddress() % Malloc4jAllocationManager.ALIGNMENT)
                                .as("address of a %s buffer", v.getName()).isZero();
                        inUse += b.capacity();
                    }
                }
                assertThat(allocator.getAllocatedMemory()).isGreaterThanOrEqualTo(inUse);
                assertThat(heap.stats().liveBytes()).isGreaterThanOrEqualTo(allocator.getAllocatedMemory());
            }
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.stats().freeCount()).isEqualTo(heap.stats().mallocCount());
        }
    }

    @ParameterizedTest(name = "{0} rows in batches of {1}")
    @CsvSource({"2000000, 2000000", "3000000, 250000"})
    void ipcStreamRoundTrip(int rows, int batchRows) throws IOException {
        try (Heap heap = Heap.builder().name("arrow-ipc").build()) {
            try (BufferAllocator allocator = Rows.rootAllocator(Malloc4jAllocationManager.factory(heap))) {
                byte[] stream = write(allocator, rows, batchRows);
                assertThat(allocator.getAllocatedMemory()).as("after writing").isZero();
                assertThat(heap.stats().liveBytes()).as("after writing").isZero();
                assertThat(heap.stats().peakLiveBytes()).isGreaterThan(batchRows * 4L);

                try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(stream), allocator)) {
                    VectorSchemaRoot root = reader.getVectorSchemaRoot();
                    assertThat(root.getSchema()).isEqualTo(Rows.SCHEMA);
                    IntVector ids = (IntVector) root.getVector("id");
                    VarCharVector names = (VarCharVector) root.getVector("name");
                    long read = 0;
                    int batches = 0;
                    while (reader.loadNextBatch()) {
                        int n = root.getRowCount();
                        assertThat(n).isEqualTo(Math.min(batchRows, rows - read));
                        assertThat(Rows.firstMismatch(ids, names, read, n)).as("batch %d", batches).isEqualTo(-1);
                        // The reader reads a batch's body into one buffer (a 64-byte aligned heap block) and
                        // slices the vectors' buffers out of it, at the 8-byte padded offsets of the IPC format.
                        assertThat(ids.getDataBuffer().memoryAddress() % 8).isZero();
                        assertThat(names.getDataBuffer().memoryAddress() % 8).isZero();
                        assertThat(heap.stats().liveBytes()).isGreaterThanOrEqualTo(allocator.getAllocatedMemory());
                        read += n;
                        batches++;
                    }
                    assertThat(read).isEqualTo(rows);
                    assertThat(batches).isEqualTo((rows + batchRows - 1) / batchRows);
                    assertThat(reader.bytesRead()).isEqualTo(stream.length);
                }
                assertThat(allocator.getAllocatedMemory()).isZero();
            }
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.stats().freeCount()).isEqualTo(heap.stats().mallocCount());
        }
    }

    /** Fills one VectorSchemaRoot batch by batch and writes each batch to an IPC stream. */
    private static byte[] write(BufferAllocator allocator, int rows, int batchRows) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 << 20);
        try (VectorSchemaRoot root = VectorSchemaRoot.create(Rows.SCHEMA, allocator);
             ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
            IntVector ids = (IntVector) root.getVector("id");
            VarCharVector names = (VarCharVector) root.getVector("name");
            writer.start();
            for (long first = 0; first < rows; first += batchRows) {
                int n = (int) Math.min(batchRows, rows - first);
                root.allocateNew();
                Rows.fill(ids, names, first, n);
                root.setRowCount(n);
                writer.writeBatch();
            }
            writer.end();
        }
        return out.toByteArray();
    }
}
