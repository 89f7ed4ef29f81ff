package dev.sparkmnist.runs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.ConfigRedactor;
import org.apache.hadoop.conf.Configuration;

/**
 * Keeps credentials out of everything the job writes or prints: provenance, metrics, the report, error lines and
 * log lines ({@link RedactingConverter}). A setting is sensitive the way Spark decides it for its UI and event logs
 * (its key or its value matches {@code spark.redaction.regex}, Spark's default unless given) or the way Hadoop does
 * ({@code hadoop.security.sensitive-config-keys}, through Hadoop's own {@link ConfigRedactor}, for
 * {@code spark.hadoop.*} keys); an environment variable is sensitive when its name is (for example
 * {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_SESSION_TOKEN}). Values of sensitive settings given with {@code --conf},
 * as system properties (what spark-submit makes of {@code --properties-file} and {@code spark-defaults.conf}) or in
 * the environment are replaced by Spark's marker wherever they appear, and so is the password of any
 * {@code scheme://user:password@host} address.
 */
public final class Secrets {
    /** What Spark writes in place of a redacted value. */
    public static final String REDACTED = "*********(redacted)";
    /**
     * Spark 3.5's default {@code spark.redaction.regex} ({@code SecretsTest} checks it against Spark's own). Not read
     * from Spark: its config object's initialiser resolves the host's address, and on a host whose name resolves to a
     * loopback address Spark logs two warnings about it, which every command, {@code --version} and a mistyped option
     * included, then printed before its own first line.
     */
    static final String SPARK_DEFAULT_REGEX = "(?i)secret|password|token|access[.]?key";
    /** A {@code key=value} argument that is not an option's: what a mistyped {@code --conf} leaves. */
    private static final Pattern STRAY_PAIR = Pattern.compile("([A-Za-z][A-Za-z0-9_.-]*)=(.+)");
    /** Environment variable names that hold credentials (besides those the Spark pattern matches). */
    private static final Pattern SENSITIVE_ENV = Pattern.compile("(?i)secret|password|passwd|token|access_?key"
        + "|api_?key|private_?key|account_?key|storage_?key|credential");
    /** Values shorter than this are redacted in their own setting but not searched for in free text. */
    static final int MIN_SCRUBBED_LENGTH = 4;
    /** The password of a {@code scheme://user:password@host} address is group 2. */
    static final Pattern USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^/@\\s:\"']*):([^/@\\s\"']+)@");
    private static final String CONF = "--conf";
    private static final String SENSITIVE_KEYS =
        org.apache.hadoop.fs.CommonConfigurationKeysPublic.HADOOP_SECURITY_SENSITIVE_CONFIG_KEYS;
    private static final String HADOOP_DEFAULT_KEYS =
        org.apache.hadoop.fs.CommonConfigurationKeysPublic.HADOOP_SECURITY_SENSITIVE_CONFIG_KEYS_DEFAULT;

    private static volatile Secrets current = new Secrets(Pattern.compile(SPARK_DEFAULT_REGEX), null, List.of());

    private final Pattern spark;
    private final ConfigRedactor hadoop;
    /** Longest first, so that a secret containing another is replaced whole. */
    private final List<String> values;

    /** @param hadoopKeys the user's {@code hadoop.security.sensitive-config-keys}, added to Hadoop's; null: none */
    private Secrets(Pattern spark, String hadoopKeys, List<String> values) {
        this.spark = spark;
        Configuration keys = new Configuration(false);
        if (hadoopKeys != null && !hadoopKeys.isBlank()) { // added to Hadoop's defaults, never in place of them
            keys.set(SENSITIVE_KEYS, keys.get(SENSITIVE_KEYS, HADOOP_DEFAULT_KEYS) + "," + hadoopKeys);
        }
        this.hadoop = new ConfigRedactor(keys);
        this.values = values.stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
    }

    /**
     * The secrets of this process: the command line's {@code --conf} pairs (and its other {@code key=value} arguments
     * whose key is sensitive: a mistyped {@code --conf}'s, which the parser's error line shows), system properties,
     * environment.
     */
    public static Secrets of(List<String> args, Properties system, Map<String, String> env) {
        List<String[]> settings = new ArrayList<>();
        for (String name : system.stringPropertyNames()) {
            settings.add(new String[] {name, system.getProperty(name)});
        }
        settings.addAll(confPairs(args));
        String regex = SPARK_DEFAULT_REGEX;
        // the user's sensitive Hadoop keys: the core-site.xml Hadoop finds (HADOOP_CONF_DIR on spark-submit's class
        // path), then --conf spark.hadoop.* or a system property, a later one winning as in SparkConf
        String hadoopKeys = new Configuration().get(SENSITIVE_KEYS);
        for (String[] kv : settings) {
            if (kv[0].equals("spark.redaction.regex")) {
                regex = kv[1];
            } else if (isSensitiveKeysSetting(kv[0])) {
                hadoopKeys = kv[1];
            }
        }
        Secrets probe = new Secrets(Pattern.compile(regex), hadoopKeys, List.of());
        Set<String> found = new LinkedHashSet<>();
        for (String[] kv : settings) {
            if (probe.sensitive(kv[0], kv[1]) && !isSensitiveKeysSetting(kv[0])) {
                found.add(kv[1]);
            }
        }
        for (String a : args) { // a setting whose --conf was mistyped: by its key alone, as a value may be a path
            Matcher m = STRAY_PAIR.matcher(a);
            if (m.matches() && probe.sensitive(m.group(1), null)) {
                found.add(m.group(2).trim());
            }
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (SENSITIVE_ENV.matcher(e.getKey()).find() || probe.spark.matcher(e.getKey()).find()) {
                found.add(e.getValue());
            }
        }
        found.removeIf(v -> v == null || v.length() < MIN_SCRUBBED_LENGTH);
        return new Secrets(probe.spark, hadoopKeys, new ArrayList<>(found));
    }

    /** Whether a setting names the sensitive Hadoop keys themselves (a list of patterns, not a secret). */
    private static boolean isSensitiveKeysSetting(String key) {
        return key.equals("spark.hadoop." + SENSITIVE_KEYS) || key.equals(SENSITIVE_KEYS);
    }

    /** Makes {@code secrets} the ones every output and log line of this process is cleaned of. */
    public static void install(Secrets secrets) {
        current = secrets;
    }

    public static Secrets current() {
        return current;
    }

    /** Whether a setting is sensitive for Spark (key or value matches its pattern) or for Hadoop (its key). */
    boolean sensitive(String key, String value) {
        if (spark.matcher(key).find() || (value != null && spark.matcher(value).find())) {
            return true;
        }
        String hadoopKey = key.startsWith("spark.hadoop.") ? key.substring("spark.hadoop.".length()) : key;
        return !java.util.Objects.equals(hadoop.redact(hadoopKey, "x"), "x");
    }

    /** A command line for the record: sensitive {@code --conf} values replaced, then {@link #scrub}bed. */
    public String commandLine(List<String> args) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals(CONF) && i + 1 < args.size()) {
                out.add(a);
                out.add(redactPair(args.get(++i)));
            } else if (a.startsWith(CONF + "=")) {
                out.add(CONF + "=" + redactPair(a.substring(CONF.length() + 1)));
            } else {
                out.add(a);
            }
        }
        return scrub(String.join(" ", out));
    }

    private String redactPair(String pair) {
        int eq = pair.indexOf('=');
        return eq > 0 && sensitive(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim())
            ? pair.substring(0, eq + 1) + REDACTED : pair;
    }

    /** {@code text} with every known secret value, and every address's password, replaced by {@link #REDACTED}. */
    public String scrub(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String v : values) {
            if (out.contains(v)) {
                out = out.replace(v, REDACTED);
            }
            String escaped = v.replace("\\", "\\\\").replace("\"", "\\\""); // as JSON writes it
            if (!escaped.equals(v) && out.contains(escaped)) {
                out = out.replace(escaped, REDACTED);
            }
        }
        return scrubUserInfo(out);
    }

    /**
     * {@code text} with the password of every {@code scheme://user:password@} address replaced: what
     * {@code USER_INFO.matcher(text).replaceAll("$1:" + REDACTED + "@")} gives, but the pattern is only tried where
     * a match can start, at the first letter of the run of scheme characters before each {@code "://"}. Scanning for
     * it from every letter took half a second and more on a report page, whose embedded images are long runs of
     * scheme characters.
     */
    static String scrubUserInfo(String text) {
        int separator = text.indexOf("://");
        if (separator < 0) {
            return text;
        }
        Matcher m = USER_INFO.matcher(text);
        StringBuilder out = null;
        int copied = 0; // text before this is in out, or nothing matched yet
        while (separator >= 0) {
            int start = separator;
            while (start > copied && schemeCharacter(text.charAt(start - 1))) {
                start--;
            }
            while (start < separator && !asciiLetter(text.charAt(start))) {
                start++;
            }
            if (start < separator && m.region(start, text.length()).lookingAt()) {
                if (out == null) {
                    out = new StringBuilder(text.length());
                }
                out.append(text, copied, start).append(m.group(1)).append(':').append(REDACTED).append('@');
                copied = m.end();
                separator = text.indexOf("://", copied);
            } else {
                separator = text.indexOf("://", separator + 1);
            }
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    private static boolean asciiLetter(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z';
    }

    /** The characters of a scheme after its first letter ({@code [A-Za-z0-9+.-]} in {@link #USER_INFO}). */
    private static boolean schemeCharacter(char c) {
        return asciiLetter(c) || c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-';
    }

    private static List<String[]> confPairs(List<String> args) {
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String pair = args.get(i).equals(CONF) && i + 1 < args.size() ? args.get(++i)
                : args.get(i).startsWith(CONF + "=") ? args.get(i).substring(CONF.length() + 1) : null;
            int eq = pair == null ? -1 : pair.indexOf('=');
            if (eq > 0) {
                pairs.add(new String[] {pair.substring(0, eq).trim(), pair.substring(eq + 1).trim()});
            }
        }
        return pairs;
    }
}
