package org.malloc4j.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The OS layer reads the kernel's page size itself (and refuses to start on a kernel whose pages are not 4 KiB, where
 * every purge of a 4 KiB page would be refused): the figure it reads is the one the system reports.
 */
class OsPageSizeTest {
    @Test
    void theKernelPageSizeReadIsTheSystems() throws Exception {
        Process p = new ProcessBuilder("getconf", "PAGESIZE").redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertThat(Os.kernelPageSize()).isEqualTo(Integer.parseInt(out)).isEqualTo(Os.PAGE_SIZE);
    }
}
