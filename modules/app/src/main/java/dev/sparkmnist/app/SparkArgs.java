package dev.sparkmnist.app;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Spark options shared by the commands. */
final class SparkArgs {
    @Option(names = "--master", paramLabel = "URL",
        description = "Spark master URL. Defaults to what spark-submit sets, else local[*] (embedded local mode).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE",
        description = "Extra Spark configuration, repeatable (e.g. --conf spark.ui.enabled=false). No default.")
    List<String> conf = new ArrayList<>();
}
