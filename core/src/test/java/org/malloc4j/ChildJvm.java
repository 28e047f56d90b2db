package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test class's {@code main} in a JVM of its own: for races whose failure is the JVM's crash (a SIGSEGV on
 * memory a concurrent close() unmapped), which would take the test JVM down with it.
 */
final class ChildJvm {
    private ChildJvm() {}

    /**
     * Runs {@code main} with {@code args} and the JVM options given, and asserts that it ended within
     * {@code timeoutSeconds} with exit status 0 (134: the abort of a crash; its hs_err file goes to the temp folder).
     *
     * @return the child's output, stdout and stderr together
     */
    static String runToSuccess(Class<?> main, int timeoutSeconds, List<String> jvmOptions, String... args)
            throws Exception {
        String tmp = System.getProperty("java.io.tmpdir");
        List<String> command = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.add("-XX:ErrorFile=" + tmp + "/" + main.getSimpleName() + "-crash-%p.log");
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        File log = File.createTempFile(main.getSimpleName() + "-child", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        log.delete();
        assertThat(done).as("child finished within %d s; output:%n%s", timeoutSeconds, out).isTrue();
        assertThat(p.exitValue()).as("child JVM exit (134 = SIGSEGV abort); output:%n%s", out).isZero();
        return out;
    }
}
