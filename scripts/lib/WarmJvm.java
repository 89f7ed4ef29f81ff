// One command line of the app run twice in one JVM (BENCHMARKS.md, round 37): the first run warms the JVM (the JIT's
// compiled code above all, also its heap and ND4J's and oneDNN's caches), the second runs the same command in a JVM
// that has trained before, as every fit after the first does in a Spark session that fits more than once (a notebook,
// CrossValidator's folds and grid). The first run writes to FIRST_OUTPUT in place of the command's --output value;
// the second to the command's own. Exit status: the first run's where it failed, else the second's.
// Run: java -cp APP_CLASS_PATH scripts/lib/WarmJvm.java FIRST_OUTPUT train ... --output DIR ...
//   (scripts/benchmark-peer.sh's WHO entries localwarm and residentwarm run it through run_main)
import java.util.Arrays;

public class WarmJvm {
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: WarmJvm FIRST_OUTPUT COMMAND [options...] (with --output DIR among the options)");
            System.exit(2);
        }
        String[] command = Arrays.copyOfRange(args, 1, args.length);
        String[] first = command.clone();
        int output = Arrays.asList(first).indexOf("--output");
        if (output < 0 || output + 1 >= first.length) {
            System.err.println("WarmJvm: the command needs --output DIR (the first run writes to " + args[0] + ")");
            System.exit(2);
        }
        first[output + 1] = args[0];
        System.err.println("WarmJvm: first run (warms the JVM), output " + args[0]);
        int status = dev.sparkmnist.app.Main.execute(first);
        if (status == 0) {
            System.err.println("WarmJvm: second run, in the same JVM, output " + command[output + 1]);
            status = dev.sparkmnist.app.Main.execute(command);
        }
        System.exit(status);
    }
}
