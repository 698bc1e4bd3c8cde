package com.modelmarket.serving.host;

import com.modelmarket.serving.HostConfig;
import com.modelmarket.serving.training.JobPriority;
import java.io.File;
import java.net.URI;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the command line of a sandboxed model host with Debian's {@code bubblewrap}: its own
 * user, PID, network, IPC and UTS namespaces (no network at all, no other process visible), a new
 * session (so it is killed whole), no capabilities, an empty environment, and a filesystem that
 * holds only the system libraries, the Java runtime and the class path read-only, the unpacked
 * PyTorch natives read-only, its own tenant's model files read-only under {@code /models}, a
 * private scratch directory and its socket. No data directory, key, configuration file, database
 * socket or other tenant's file is in it; everything but the scratch folder is read-only. {@code
 * prlimit} sets the resource limits inside, and {@code nice} schedules model code below the
 * platform's own threads.
 *
 * <p>Blocking (file system walks, a probe process): call it from a worker thread.
 */
public final class HostLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(HostLauncher.class);
    /** The unprivileged user a host runs as inside its namespace. */
    static final int HOST_UID = 65534;
    static final String MODELS = "/models";
    static final String SCRATCH = "/scratch";
    static final String SOCKET = "/run/host.sock";
    /** How much lower than the platform's threads a host's threads are scheduled. */
    static final int NICENESS = 5;

    private final HostConfig config;
    private final Path nativeDir;
    private final String java;
    private final List<String> classPath;
    private final List<String> runtimeBinds;

    HostLauncher(HostConfig config, Path nativeDir) {
        this.config = config;
        this.nativeDir = nativeDir;
        Path javaHome = Path.of(System.getProperty("java.home"));
        this.java = javaHome.resolve("bin").resolve("java").toString();
        this.classPath = classPath();
        this.runtimeBinds = runtimeBinds(javaHome);
    }

    /** The JVM's class path, with the entries of a manifest-only jar (as Surefire makes) spelled out. */
    static List<String> classPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            Path p = Path.of(e).toAbsolutePath().normalize();
            entries.add(p.toString());
            if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    Manifest m = jar.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String ref : cp.trim().split("\\s+")) {
                            Path resolved = ref.startsWith("file:")
                                    ? Path.of(URI.create(ref))
                                    : p.getParent().resolve(ref);
                            entries.add(resolved.toAbsolutePath().normalize().toString());
                        }
                    }
                } catch (IOException | IllegalArgumentException ex) {
                    LOG.debug("cannot read the manifest of {}: {}", p, ex.toString());
                }
            }
        }
        entries.removeIf(e -> !Files.exists(Path.of(e)));
        return List.copyOf(entries);
    }

    /** System library folders and what the Java runtime links to outside its home (Debian: /etc/java-17-openjdk). */
    private static List<String> runtimeBinds(Path javaHome) {
        List<String> args = new ArrayList<>();
        for (String dir : List.of("/usr", "/lib", "/lib64", "/bin", "/sbin")) {
            Path p = Path.of(dir);
            if (Files.isSymbolicLink(p)) {
                try {
                    args.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
                } catch (IOException e) {
                    LOG.debug("cannot read link {}", p);
                }
            } else if (Files.isDirectory(p)) {
                args.addAll(List.of("--ro-bind", dir, dir));
            }
        }
        Set<Path> outside = new LinkedHashSet<>();
        try {
            Path home = javaHome.toRealPath();
            if (!home.startsWith("/usr")) {
                outside.add(home);
            }
            try (Stream<Path> files = Files.walk(javaHome, 4)) {
                files.filter(Files::isSymbolicLink).forEach(link -> {
                    try {
                        Path target = link.toRealPath();
                        if (!target.startsWith("/usr") && !target.startsWith(home)) {
                            outside.add(Files.isDirectory(target) ? target : target.getParent());
                        }
                    } catch (IOException e) {
                        // a dangling link: nothing to bind
                    }
                });
            }
        } catch (IOException e) {
            LOG.warn("cannot inspect the Java runtime at {}: {}", javaHome, e.toString());
        }
        for (Path p : outside) {
            args.addAll(List.of("--ro-bind", p.toString(), p.toString()));
        }
        return args;
    }

    /**
     * The command that starts a host.
     *
     * @param modelsDir the tenant's model files (hard links into the store), mounted read-only
     * @param scratchDir the host's only writable folder
     * @param socket the platform's listening socket for this host
     */
    List<String> command(Path modelsDir, Path scratchDir, Path socket, int threads, int intraOp, int interOp,
            boolean graphOptimizer, String device, JobPriority priority) {
        List<String> program = new ArrayList<>(jvm(threads));
        program.addAll(List.of(HostMain.class.getName(), SOCKET, "" + threads, "" + intraOp, "" + interOp,
                "" + graphOptimizer, device));
        return sandboxed(modelsDir, scratchDir, socket, intraOp, priority, program);
    }

    /** {@code program} inside the sandbox and resource limits of a model host. */
    List<String> sandboxed(Path modelsDir, Path scratchDir, Path socket, int intraOp, List<String> program) {
        return sandboxed(modelsDir, scratchDir, socket, intraOp, JobPriority.NORMAL, program);
    }

    /**
     * {@code program} inside the sandbox and resource limits of a host, at {@code priority}: model
     * hosts at {@link JobPriority#NORMAL} (nice {@value #NICENESS}), training and fine-tuning jobs lower.
     */
    List<String> sandboxed(Path modelsDir, Path scratchDir, Path socket, int intraOp, JobPriority priority,
            List<String> program) {
        List<String> cmd = new ArrayList<>();
        cmd.addAll(List.of("bwrap", "--unshare-all", "--unshare-user", "--uid", "" + HOST_UID, "--gid",
                "" + HOST_UID, "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname",
                "model-host", "--clearenv"));
        cmd.addAll(List.of("--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", SCRATCH,
                "--setenv", "ENGINE_CACHE_DIR", nativeDir.toString(), "--setenv", "DJL_CACHE_DIR",
                SCRATCH + "/djl", "--setenv", "MALLOC_ARENA_MAX", "2", "--setenv", "OMP_NUM_THREADS",
                "" + intraOp));
        cmd.addAll(runtimeBinds);
        // an empty /tmp first: class-path entries (a checkout under /tmp, say) may be bound inside it;
        // it is made read-only at the end like the root
        cmd.addAll(List.of("--tmpfs", "/tmp"));
        for (String entry : classPath) {
            cmd.addAll(List.of("--ro-bind", entry, entry));
        }
        cmd.addAll(List.of("--ro-bind", nativeDir.toString(), nativeDir.toString(),
                "--ro-bind", modelsDir.toString(), MODELS,
                "--bind", scratchDir.toString(), SCRATCH,
                "--ro-bind", socket.toString(), SOCKET,
                "--proc", "/proc", "--dev", "/dev", "--chdir", SCRATCH, "--remount-ro", "/tmp",
                // nothing but the scratch folder is writable: the root the binds hang from is read-only too
                "--remount-ro", "/", "--"));
        // model code runs below the platform's own threads, so a busy model never delays an event loop;
        // every thread the program starts (its JIT compiler and collector too) inherits the priority
        cmd.addAll(priority.launchPrefix(NICENESS));
        cmd.addAll(List.of("prlimit", "--as=" + config.memoryLimitBytes(),
                "--fsize=" + config.fileSizeLimitBytes(), "--nofile=" + config.openFilesLimit(),
                "--nproc=" + config.processLimit(), "--core=0", "--"));
        cmd.addAll(program);
        return cmd;
    }

    /** The host JVM: small heap, serial GC, sized to its share of the cores. */
    private List<String> jvm(int threads) {
        return List.of(java, "-Xmx" + (config.heapBytes() >> 20) + "m", "-Xss1m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=" + Math.max(1, threads),
                "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=64m", "-XX:-UsePerfData",
                "-Djava.io.tmpdir=" + SCRATCH, "-Dai.djl.offline=true", "-Dlogback.configurationFile=/dev/null",
                "-cp", String.join(File.pathSeparator, classPath));
    }

    /**
     * Unpacks PyTorch's natives from the class path into the shared, read-only native directory, in
     * a short trusted run of this code (no model is loaded), so that no host needs to write them.
     */
    void prepareNatives() throws IOException, InterruptedException {
        Files.createDirectories(nativeDir);
        Path marker = nativeDir.resolve(".ready");
        if (Files.exists(marker)) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-Dai.djl.offline=true",
                "-cp", String.join(File.pathSeparator, classPath), HostMain.class.getName(), "--prepare"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ENGINE_CACHE_DIR", nativeDir.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("unpacking PyTorch's natives failed: " + tail(out));
        }
        Files.writeString(marker, "ok\n");
        LOG.info("PyTorch natives unpacked into {}", nativeDir);
    }

    /** Whether bubblewrap is installed and can create the namespaces on this machine; null if so, else why not. */
    static String probe() {
        try {
            Process p = new ProcessBuilder("bwrap", "--unshare-all", "--unshare-user", "--uid", "" + HOST_UID,
                    "--die-with-parent", "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "--",
                    "true").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "bwrap did not finish";
            }
            return p.exitValue() == 0 ? null : "bwrap cannot create the sandbox: " + tail(out);
        } catch (IOException e) {
            return "bwrap is not installed (Debian: apt-get install bubblewrap): " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Why the class path cannot be shown to a host, or null: a folder on it that holds the hosts'
     * own folder would also hold the data directory's secrets.
     */
    String unsafeClassPath(Path hostsRoot) {
        Path root = hostsRoot.toAbsolutePath().normalize();
        for (String entry : classPath) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p) && root.startsWith(p)) {
                return "the class path entry " + entry + " holds the data directory; start the platform from its jar";
            }
        }
        return null;
    }

    static String tail(String s) {
        String t = s.strip();
        return t.length() > 600 ? t.substring(t.length() - 600) : t;
    }

    /** DJL's engine cache, where PyTorch's natives are unpacked unless configured otherwise. */
    static Path defaultNativeDir() {
        String dir = System.getenv("ENGINE_CACHE_DIR");
        if (dir == null) {
            dir = System.getProperty("ENGINE_CACHE_DIR");
        }
        if (dir == null) {
            String djl = System.getenv("DJL_CACHE_DIR");
            dir = djl != null ? djl : Path.of(System.getProperty("user.home"), ".djl.ai").toString();
        }
        return Path.of(dir).toAbsolutePath().normalize();
    }
}
