package dev.sparkmnist.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The GPUs CUDA shows this process, as nvidia-smi lists them and CUDA_VISIBLE_DEVICES renumbers them: what the GPU
 * check ({@link CudaCompatibility}) compares with the architectures in ND4J's CUDA library. Uses only java.base.
 */
public final class NvidiaSmi {
    private NvidiaSmi() {
    }

    /**
     * A GPU as this process's CUDA numbers it.
     *
     * @param ordinal the CUDA device ordinal (what Spark's address and ND4J's device index are)
     * @param index nvidia-smi's index
     * @param uuid the GPU's UUID
     * @param name the model
     * @param capability its compute capability
     */
    public record Gpu(int ordinal, int index, String uuid, String name, CudaCompatibility.ComputeCapability capability) {
        String label() {
            return "GPU " + ordinal + " (" + name + ", nvidia-smi index " + index + ")";
        }
    }

    /** The nvidia-smi query {@link #parse} reads. */
    static final List<String> QUERY = List.of("--query-gpu=index,uuid,name,compute_cap", "--format=csv,noheader");

    /**
     * The GPUs CUDA shows this process, from nvidia-smi's listing (lines "index, uuid, name, X.Y") and
     * CUDA_VISIBLE_DEVICES (null when unset): CUDA renumbers the visible devices from 0. An entry that names no
     * listed GPU ends the list (CUDA ignores it and every entry after it); MIG entries, which the listing does not
     * show, end it too.
     */
    static List<Gpu> parse(String listing, String cudaVisibleDevices) {
        List<Gpu> all = new ArrayList<>();
        for (String line : listing.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length < 4) {
                throw new IllegalArgumentException("unexpected nvidia-smi line '" + line.strip()
                    + "' (expected index, uuid, name, compute capability)");
            }
            String name = String.join(",", java.util.Arrays.copyOfRange(f, 2, f.length - 1)).strip();
            int index = Integer.parseInt(f[0].strip());
            all.add(new Gpu(index, index, f[1].strip(), name, CudaCompatibility.ComputeCapability.parse(f[f.length - 1])));
        }
        if (cudaVisibleDevices == null) {
            return all;
        }
        List<Gpu> visible = new ArrayList<>();
        for (String raw : cudaVisibleDevices.split(",")) {
            String entry = raw.strip();
            Optional<Gpu> match = all.stream().filter(g -> entry.matches("\\d+")
                ? g.index() == Integer.parseInt(entry) : !entry.isEmpty() && g.uuid().startsWith(entry)).findFirst();
            if (match.isEmpty()) {
                break;
            }
            Gpu g = match.get();
            visible.add(new Gpu(visible.size(), g.index(), g.uuid(), g.name(), g.capability()));
        }
        return visible;
    }

    /**
     * Runs nvidia-smi ({@code executable}, looked up on PATH when it has no slash) and returns the GPUs CUDA shows a
     * process with this CUDA_VISIBLE_DEVICES; empty when nvidia-smi is missing, fails, or is too old to report
     * compute capabilities (then nothing can be checked).
     */
    public static Optional<List<Gpu>> query(String executable, String cudaVisibleDevices) {
        List<String> cmd = new ArrayList<>();
        cmd.add(executable);
        cmd.addAll(QUERY);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return Optional.of(parse(new String(out, StandardCharsets.UTF_8), cudaVisibleDevices));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
