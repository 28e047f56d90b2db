package org.malloc4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.function.Function;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.Allocators;

/** Runs the command line in-process and keeps what it printed. */
record Cli(int code, String out, String err) {
    static Cli run(String... args) {
        return run(Allocators::open, args);
    }

    static Cli run(Function<String, Allocator> opener, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(opener, new PrintWriter(out), new PrintWriter(err), args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** @return the non-empty lines of stderr */
    List<String> errLines() {
        return err.lines().filter(l -> !l.isBlank()).toList();
    }

    /** @return the non-empty lines of stdout */
    List<String> outLines() {
        return out.lines().filter(l -> !l.isBlank()).toList();
    }
}
