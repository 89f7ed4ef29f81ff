package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib/ab_table.py, the summary of scripts/benchmark-ab.sh (BENCHMARKS.md, round 29): made-up runs of three
 * pairs and one unfinished run give each side's medians by epoch and in sum, and in how many pairs "after" won.
 */
class AbTableToolTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root", "../..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    private void run(String name, double... fits) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        StringBuilder csv = new StringBuilder("epoch,train_loss,fit_seconds,eval_seconds\n");
        for (int e = 0; e < fits.length; e++) {
            csv.append(e + 1).append(",0.5,").append(fits[e]).append(",0.1\n");
        }
        Files.writeString(dir.resolve("metrics.csv"), csv);
    }

    @Test
    void mediansAndWinsOverTheFinishedPairs() throws Exception {
        run("before-1", 2.0, 1.0);
        run("after-1", 1.5, 1.2);
        run("after-2", 1.8, 0.9);
        run("before-2", 2.2, 1.1);
        run("before-3", 2.4, 1.0);
        run("after-3", 2.6, 0.8);
        Files.createDirectories(tmp.resolve("before-4")); // killed before its metrics: its pair does not count
        run("after-4", 0.1, 0.1);
        ProcessRun tool = ProcessRun.of(new ProcessBuilder("python3",
            REPO.resolve("scripts/lib/ab_table.py").toString(), tmp.toString()));
        assertEquals(0, tool.exit(), tool.output());
        assertEquals(List.of(
            "3 pairs, fit seconds by epoch (medians), then their sum:",
            "  before  2.200 1.000  | sum 3.300",
            "  after   1.800 0.900  | sum 2.700",
            "  after faster in: 2 2 (by epoch), 2 (sum) of 3 pairs"), tool.output().lines().toList());
    }
}
