package org.malloc4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code malloc4j --version}: the project version (written into the jar by the build) and the JVM. */
public final class VersionProvider implements IVersionProvider {
    /** @return the project version, or {@code unknown} when run outside a built jar or class folder */
    public static String version() {
        try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "malloc4j " + version(),
            "JVM: " + System.getProperty("java.vm.name") + " " + Runtime.version() + " ("
                    + System.getProperty("os.arch") + ")"
        };
    }
}
