// Measurement only (BENCHMARKS.md, round 38), never on the product's class path: Java 24 and later throw from
// Subject.getSubject, which Hadoop 3.3's client (Spark 3.5's) calls for every file system, so the app cannot start
// there. This rewrites each call of Subject.getSubject(AccessControlContext) in the given jars into Subject.current()
// (the argument popped), as Hadoop's own fix does on newer JVMs (HADOOP-19212), and writes the rewritten classes alone
// into OUT.jar, to put before the app's libraries (APP_CLASSPATH_FIRST). Needs Java 24+ (the ClassFile API):
//   /usr/lib/jvm/temurin-25-jdk-amd64/bin/java scripts/lib/SubjectPatch.java /tmp/subject-patch.jar modules/app/target/lib/*.jar
import java.lang.classfile.*;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.constant.*;
import java.nio.file.*;
import java.util.*;
import java.util.jar.*;
import java.util.zip.*;

/** Rewrites every call of Subject.getSubject(AccessControlContext) into Subject.current() (the argument popped). */
public class SubjectPatch {
    public static void main(String[] a) throws Exception {
        ClassDesc subject = ClassDesc.of("javax.security.auth.Subject");
        Path out = Path.of(a[0]);
        int patched = 0;
        try (JarOutputStream jo = new JarOutputStream(Files.newOutputStream(out))) {
            for (int i = 1; i < a.length; i++) {
                try (ZipFile z = new ZipFile(a[i])) {
                    for (ZipEntry e : Collections.list(z.entries())) {
                        if (!e.getName().endsWith(".class") || e.getName().startsWith("META-INF/versions")) continue;
                        byte[] b = z.getInputStream(e).readAllBytes();
                        if (!new String(b, java.nio.charset.StandardCharsets.ISO_8859_1).contains("getSubject")) continue;
                        ClassFile cf = ClassFile.of();
                        ClassModel m;
                        try { m = cf.parse(b); } catch (Exception ex) { continue; }
                        boolean[] hit = {false};
                        byte[] nb = cf.transformClass(m, ClassTransform.transformingMethodBodies((cb, el) -> {
                            if (el instanceof InvokeInstruction inv && inv.owner().asSymbol().equals(subject)
                                && inv.name().stringValue().equals("getSubject")) {
                                hit[0] = true;
                                cb.pop();
                                cb.invokestatic(subject, "current", MethodTypeDesc.of(subject));
                            } else {
                                cb.with(el);
                            }
                        }));
                        if (hit[0]) {
                            jo.putNextEntry(new ZipEntry(e.getName()));
                            jo.write(nb);
                            jo.closeEntry();
                            patched++;
                            System.out.println(a[i].replaceAll(".*/", "") + " " + e.getName());
                        }
                    }
                }
            }
        }
        System.out.println(patched + " classes patched");
    }
}
