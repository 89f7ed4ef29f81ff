package dev.sparkmnist.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SecretsTest {
    private static final String R = Secrets.REDACTED;

    @AfterEach
    void reset() {
        Secrets.install(Secrets.of(List.of(), new Properties(), Map.of()));
    }

    @Test
    void sensitiveAsSparkAndHadoopDecide() {
        Secrets s = Secrets.of(List.of(), new Properties(), Map.of());
        assertTrue(s.sensitive("spark.hadoop.fs.s3a.secret.key", "x"), "Spark: secret");
        assertTrue(s.sensitive("spark.hadoop.fs.s3a.access.key", "x"), "Spark: access.key");
        assertTrue(s.sensitive("spark.ssl.keyStorePassword", "x"), "Spark: password, any case");
        assertTrue(s.sensitive("spark.some.setting", "my-token-value"), "Spark: a value that matches");
        // Hadoop's hadoop.security.sensitive-config-keys (fs.azure.account.key.*), which Spark's pattern misses
        assertTrue(s.sensitive("spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net", "x"));
        assertFalse(s.sensitive("spark.ui.enabled", "false"));
        assertFalse(s.sensitive("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000"));
    }

    @Test
    void theDefaultPatternIsSparks() {
        assertEquals(org.apache.spark.internal.config.package$.MODULE$.SECRET_REDACTION_PATTERN().defaultValueString(),
            Secrets.SPARK_DEFAULT_REGEX);
        assertTrue(Secrets.of(List.of(), new Properties(), Map.of()).sensitive("spark.hadoop.fs.s3a.accesskey", "x"),
            "access[.]?key, as Spark 3.5 has it");
    }

    @Test
    void aMistypedConfsSecretIsScrubbedFromTheParsersLine() {
        Secrets s = Secrets.of(List.of("train", "--cnf", "spark.hadoop.fs.s3a.secret.key=TOPSECRET123", "--output",
            "/tmp/token=dir", "password=hunter22", "--label=access"), new Properties(), Map.of());
        assertEquals("Unknown options: '--cnf', 'spark.hadoop.fs.s3a.secret.key=" + R + "', 'password=" + R + "'",
            s.scrub("Unknown options: '--cnf', 'spark.hadoop.fs.s3a.secret.key=TOPSECRET123', 'password=hunter22'"));
        // by the key alone: a path whose value mentions a token, or an option's own value, is not a secret
        assertEquals("/tmp/token=dir --label=access", s.scrub("/tmp/token=dir --label=access"));
    }

    @Test
    void theUsersSensitiveHadoopKeysAreAddedToHadoopsOwn() {
        Secrets s = Secrets.of(List.of("train", "--conf", "spark.hadoop.hadoop.security.sensitive-config-keys="
            + "vault\\.pin$", "--conf", "spark.hadoop.my.vault.pin=73519246"), new Properties(), Map.of());
        assertTrue(s.sensitive("spark.hadoop.my.vault.pin", "x"), "the user's key");
        assertTrue(s.sensitive("spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net", "x"), "Hadoop's still");
        assertEquals("pin " + R, s.scrub("pin 73519246"));
        assertEquals("train --conf spark.hadoop.my.vault.pin=" + R, s.commandLine(List.of("train", "--conf",
            "spark.hadoop.my.vault.pin=73519246")));
        Properties system = new Properties(); // spark-submit's --properties-file
        system.setProperty("spark.hadoop.hadoop.security.sensitive-config-keys", "vault\\.pin$");
        system.setProperty("spark.hadoop.my.vault.pin", "73519246");
        assertEquals(R, Secrets.of(List.of(), system, Map.of()).scrub("73519246"));
        assertFalse(Secrets.of(List.of(), new Properties(), Map.of()).sensitive("spark.hadoop.my.vault.pin", "x"),
            "not sensitive unless named");
    }

    @Test
    void commandLineRedactsSensitiveConfValuesInBothForms() {
        Secrets s = Secrets.of(List.of(), new Properties(), Map.of());
        assertEquals("train --conf spark.hadoop.fs.s3a.secret.key=" + R + " --conf=spark.hadoop.fs.s3a.access.key=" + R
                + " --conf spark.ui.enabled=false --epochs 2",
            s.commandLine(List.of("train", "--conf", "spark.hadoop.fs.s3a.secret.key=s3cr3tValue",
                "--conf=spark.hadoop.fs.s3a.access.key=AKIAEXAMPLE", "--conf", "spark.ui.enabled=false", "--epochs",
                "2")));
    }

    @Test
    void scrubReplacesKnownValuesFromConfSystemPropertiesAndEnvironment() {
        Properties system = new Properties();
        system.setProperty("spark.authenticate.secret", "fromDefaultsFile1"); // what spark-submit makes of a file
        system.setProperty("spark.app.name", "spark-mnist");
        Secrets s = Secrets.of(List.of("train", "--conf", "spark.hadoop.fs.s3a.secret.key=fromConf\"Quoted"),
            system, Map.of("AWS_SECRET_ACCESS_KEY", "fromEnvironment2", "AWS_SESSION_TOKEN", "sessionToken3",
                "HOME", "/root"));
        String text = "a fromDefaultsFile1 b {\"k\":\"fromConf\\\"Quoted\"} c fromEnvironment2 sessionToken3 /root"
            + " spark-mnist";
        assertEquals("a " + R + " b {\"k\":\"" + R + "\"} c " + R + " " + R + " /root spark-mnist", s.scrub(text));
        assertEquals("s3a://user:" + R + "@bucket/mnist and hdfs://nn:8020/x",
            s.scrub("s3a://user:pa55word@bucket/mnist and hdfs://nn:8020/x"));
    }

    @Test
    void keysNamedAsTheCloudsNameThemAreSecrets() {
        Secrets s = Secrets.of(List.of(), new Properties(), Map.of("AZURE_STORAGE_KEY", "azureKey1",
            "AZURE_STORAGE_ACCOUNT_KEY", "azureKey2", "GOOGLE_API_KEY", "googleKey3", "SSH_PRIVATE_KEY", "sshKey4",
            "JAVA_HOME", "/usr/lib/jvm/java-17"));
        assertEquals(R + " " + R + " " + R + " " + R + " /usr/lib/jvm/java-17",
            s.scrub("azureKey1 azureKey2 googleKey3 sshKey4 /usr/lib/jvm/java-17"));
    }

    @Test
    void aGivenRedactionRegexIsHonoured() {
        Secrets s = Secrets.of(List.of("--conf", "spark.redaction.regex=(?i)mykey", "--conf", "spark.mykey.x=abcdef"),
            new Properties(), Map.of());
        assertTrue(s.sensitive("spark.mykey.x", "1"));
        assertEquals("v=" + R, s.scrub("v=abcdef"));
    }

    /** The scrub's pattern applied the plain way: the reference. */
    private static String byThePattern(String text) {
        return Secrets.USER_INFO.matcher(text).replaceAll("$1:" + java.util.regex.Matcher.quoteReplacement(R) + "@");
    }

    @Test
    void addressPasswordsAreScrubbedExactlyAsThePatternScrubsThem() {
        assertEquals("see s3a://AKIA:" + R + "@bucket/x and hdfs://nn:8020/y",
            Secrets.scrubUserInfo("see s3a://AKIA:hunter22@bucket/x and hdfs://nn:8020/y"));
        assertEquals("9http://u:" + R + "@h, foo_s3a://k:" + R + "@b", Secrets.scrubUserInfo("9http://u:p@h, foo_s3a://k:s@b"));
        assertEquals("no address here", Secrets.scrubUserInfo("no address here"));
        // Random texts over the characters the pattern cares about, against the pattern itself.
        java.util.Random random = new java.util.Random(7);
        String alphabet = "ab9Z+.-_:/@ \"'\t=";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(40);
            for (int j = 0; j < length; j++) {
                text.append(random.nextInt(4) == 0 ? "://" : String.valueOf(alphabet.charAt(random.nextInt(alphabet.length()))));
            }
            assertEquals(byThePattern(text.toString()), Secrets.scrubUserInfo(text.toString()), "for '" + text + "'");
        }
    }
}
