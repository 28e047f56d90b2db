package org.malloc4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * The purger thread lives as long as the process, and was made by whichever thread built the first heap: it took that
 * thread's context class loader (and its inheritable thread locals) and kept them reachable for good. A web
 * application that built the first heap pinned its class loader, and every class it loaded, after it was undeployed.
 */
class PurgerKeepsNoLoaderTest {
    @Test
    void thePurgerThreadDoesNotTakeItsCreatorsContextClassLoader() throws Exception {
        Thread me = Thread.currentThread();
        ClassLoader saved = me.getContextClassLoader();
        try (URLClassLoader application = new URLClassLoader(new URL[0], saved)) {
            me.setContextClassLoader(application);
            Thread purger = Purger.newThread(); // unstarted: the process's one purger is not disturbed
            assertThat(purger.getContextClassLoader()).isNotSameAs(application);
            assertThat(purger.isDaemon()).as("never keeps the JVM alive").isTrue();
        } finally {
            me.setContextClassLoader(saved);
        }
    }
}
