package org.malloc4j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A misspelt allocator is a usage error of the in-JVM tools: one line naming it and the names they take, exit 2, as
 * their other bad arguments. LarsonScaling, PairInTurn and XmallocInTurn let {@link Subject#open}'s
 * IllegalArgumentException end the JVM with a stack trace and status 1 (XmallocInTurn after the subjects before it
 * had opened), which scripts read as a crash rather than a mistyped name.
 */
class UnknownSubjectTest {
    @ParameterizedTest
    @ValueSource(strings = {"LarsonScaling jemaloc 1 1", "PairInTurn 1 16 jemaloc",
            "XmallocInTurn 1 1 1 malloc4j jemaloc"})
    void aMisspeltAllocatorIsAUsageError(String toolAndArgs) throws Exception {
        String[] words = toolAndArgs.split(" ");
        List<String> command = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.malloc4j.bench." + words[0]));
        command.addAll(List.of(words).subList(1, words.length));
        File stdout = File.createTempFile("UnknownSubjectTest", ".out");
        Process p = new ProcessBuilder(command).redirectOutput(stdout).start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(60, TimeUnit.SECONDS); // a safety net only: a usage error exits at once
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(stdout.toPath(), StandardCharsets.UTF_8);
        stdout.delete();

        assertThat(done).as("tool exited").isTrue();
        assertThat(p.exitValue()).as("exit status; stderr:%n%s", err).isEqualTo(2);
        assertThat(err).startsWith(words[0] + ": unknown allocator 'jemaloc': expected one of malloc4j, glibc")
                .doesNotContain("Exception");
        assertThat(out).isEmpty();
    }
}
