package org.malloc4j.anchors;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a test's {@code main} in a JVM of its own: what an anchor does depends on the environment it starts with. */
final class ChildJvm {
    private ChildJvm() {}

    /**
     * @return what {@code main} printed (stdout and stderr together, stripped), after asserting that it exited 0
     */
    static String run(Class<?> main, Map<String, String> environment) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                main.getName())).redirectErrorStream(true);
        pb.environment().putAll(environment);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        boolean done = p.waitFor(60, TimeUnit.SECONDS); // a safety net only: the child exits at once
        if (!done) p.destroyForcibly().waitFor();
        assertThat(done).as("child exited; output:%n%s", out).isTrue();
        assertThat(p.exitValue()).as("child's exit status; output:%n%s", out).isZero();
        return out;
    }
}
