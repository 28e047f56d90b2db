package org.malloc4j.cli.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.malloc4j.cli.Main;
import org.malloc4j.cli.report.HtmlReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code malloc4j demo}: demonstrations. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Demonstrations.",
        subcommands = {DemoCommand.Fragmentation.class})
public final class DemoCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing demo (try 'fragmentation')");
    }

    /** {@code malloc4j demo fragmentation}. */
    @Command(name = "fragmentation", mixinStandardHelpOptions = true,
            description = "Half the memory free in holes, then a request larger than any hole: malloc4j vs a naive"
                    + " first-fit heap.")
    public static final class Fragmentation implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--report", paramLabel = "FILE", description = "Also write an HTML page of malloc4j's heap.")
        Path report;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            HtmlReport page = report == null ? null : new HtmlReport("malloc4j demo fragmentation");
            FragmentationDemo.Result r = FragmentationDemo.run(page);
            FragmentationDemo.print(r, out);
            if (page != null) {
                StringWriter text = new StringWriter();
                FragmentationDemo.print(r, new PrintWriter(text));
                page.text("Side by side", text.toString());
                try {
                    page.write(report);
                } catch (IOException e) {
                    spec.commandLine().getErr().println("malloc4j demo fragmentation: cannot write " + report);
                    return Main.BAD_INPUT;
                }
            }
            return Main.OK;
        }
    }
}
