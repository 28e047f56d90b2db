package org.malloc4j.cli;

import java.io.PrintWriter;
import java.util.function.Function;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.Allocators;
import picocli.CommandLine;
import picocli.CommandLine.IFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code malloc4j} command. Exit codes, for every subcommand: 0 all went well, 1 a replay found errors,
 * 2 bad input (a malformed or missing trace, a bad option), with a one-line message on stderr; 3 an internal
 * error (a bug in this tool), with a stack trace.
 */
@Command(name = "malloc4j",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        subcommands = {ReplayCommand.class, org.malloc4j.cli.demo.DemoCommand.class, CommandLine.HelpCommand.class},
        description = "A manual native-memory heap for the JVM: tools.",
        footer = {"", "Exit codes: 0 ok, 1 replay errors found, 2 bad input, 3 internal error."})
public final class Main implements Runnable {
    /** Everything went well. */
    public static final int OK = 0;
    /** A replay found errors: a block whose content changed, overlapping blocks, a failed call. */
    public static final int REPLAY_ERRORS = 1;
    /** Bad input: a malformed or missing trace, an unknown option or value. */
    public static final int BAD_INPUT = 2;
    /** A bug in the tool itself. */
    public static final int INTERNAL_ERROR = 3;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command (try 'malloc4j replay')");
    }

    /** Runs the tool and exits with its exit code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = execute(out, err, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Runs the tool without exiting: what tests call.
     *
     * @return the exit code
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(Allocators::open, out, err, args);
    }

    /** @return whether {@code e} is the JVM's own heap running out (not a malloc4j heap's refusal, also an OOME) */
    static boolean outOfJavaHeap(Throwable e) {
        return e instanceof OutOfMemoryError && !(e instanceof org.malloc4j.HeapExhaustedException);
    }

    /**
     * Runs the tool without exiting, with allocators from {@code opener} instead of {@link Allocators#open}.
     *
     * @return the exit code
     */
    static int execute(Function<String, Allocator> opener, PrintWriter out, PrintWriter err, String... args) {
        IFactory defaults = CommandLine.defaultFactory();
        IFactory factory = new IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == ReplayCommand.class ? type.cast(new ReplayCommand(opener)) : defaults.create(type);
            }
        };
        CommandLine cl = new CommandLine(new Main(), factory);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            err.println(c.getCommandSpec().qualifiedName() + ": " + ex.getMessage() + " (see '"
                    + c.getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            err.println(c.getCommandSpec().qualifiedName() + ": internal error: " + ex);
            ex.printStackTrace(err);
            err.flush();
            return INTERNAL_ERROR;
        });
        int code;
        try {
            code = cl.execute(args);
        } catch (Error e) {
            // picocli hands only exceptions to the handler above; an error (the JVM out of memory, say) is a failure
            // of this tool too, not a replay error
            if (outOfJavaHeap(e)) {
                err.println("malloc4j: the JVM ran out of its Java heap (" + e.getMessage() + "): a trace's operations"
                        + " are held in memory while it replays; give the JVM more, as MALLOC4J_JAVA_OPTS=-Xmx16g for"
                        + " the launcher, or -Xmx16g on the java command line");
            } else {
                err.println("malloc4j: internal error: " + e);
                e.printStackTrace(err);
            }
            code = INTERNAL_ERROR;
        }
        out.flush();
        err.flush();
        return code;
    }
}
