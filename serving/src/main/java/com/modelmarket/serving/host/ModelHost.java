package com.modelmarket.serving.host;

import com.modelmarket.serving.DeadlineExceededException;
import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.batch.BatchWorker;
import com.modelmarket.serving.host.HostProtocol.Frame;
import com.modelmarket.serving.host.HostProtocol.Writer;
import com.modelmarket.serving.training.JobPriority;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The platform's side of one model-host process: the process, its socket, and the calls waiting
 * for an answer, each with its deadline. A call that runs past its deadline plus the kill grace
 * gets the whole host killed (SIGKILL to every process of its sandbox): the CPU is free at once,
 * the overrunning call fails as past its deadline and every other call of the host as
 * overloaded, and the host's owner is told so that its models load again in a fresh host.
 *
 * <p>A reader thread takes answers off the socket and completes the calls' promises; a writer
 * thread sends frames, so that a host that stops reading never blocks an event loop.
 */
final class ModelHost {

    private static final Logger LOG = LoggerFactory.getLogger(ModelHost.class);
    /** Most bytes one answer may have: outputs of a large batch of a large model. */
    static final int MAX_ANSWER_BYTES = 1 << 30;
    private static final byte[] CLOSE = new byte[0];

    final String owner;
    final String name;
    final Path dir;
    final Path modelsDir;
    final int threads;
    private final Process process;
    private final SocketChannel channel;
    private final Map<Long, Call> calls = new ConcurrentHashMap<>();
    private final BlockingQueue<byte[]> outbox = new LinkedBlockingQueue<>();
    private final AtomicLong ids = new AtomicLong();
    private final Promise<String> exited = Promise.promise();
    private volatile String deathReason;
    private final java.util.concurrent.atomic.AtomicBoolean mourned = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Consumer<ModelHost> onDeath = h -> { };
    private volatile long idleSinceNanos = System.nanoTime();
    private final long startedNanos = System.nanoTime();
    private volatile boolean stoppedOnPurpose;
    /** Model handles loaded (or loading) in this host. */
    final java.util.Set<String> handles = ConcurrentHashMap.newKeySet();

    /** A call in flight; {@code what} describes it for the kill and demotion messages, built only for those. */
    private record Call(Promise<Frame> promise, long deadlineNanos, Supplier<String> what, long sentNanos, boolean batch,
            Consumer<Frame> progress) {}

    /**
     * A batch computing longer than this marks its host as one that runs long computations: the
     * host is moved to the lowest scheduling priority (nice 19), so that another publisher's short
     * calls are not kept waiting behind it on a busy core. Unprivileged processes can only lower
     * their children's priority, so a demoted host stays so until it is replaced.
     */
    static final long DEMOTE_AFTER_NANOS = 50_000_000L;
    /**
     * A batch past {@link #DEMOTE_AFTER_NANOS} only starts a look at the host's CPU time over this
     * window: the host is demoted if it computed for at least {@link #DEMOTE_CPU_SHARE} of it. A light
     * model's batch that merely waited for a busy core (a warm-up, a saturated node, a training job
     * beside it) is then not mistaken for a long computation, which would put the host at the lowest
     * priority for good.
     */
    static final long DEMOTE_PROBE_NANOS = 100_000_000L;
    static final double DEMOTE_CPU_SHARE = 0.3;
    /** Linux's USER_HZ, the unit of utime/stime in /proc/<pid>/stat. */
    private static final long TICKS_PER_SECOND = 100;
    private volatile boolean demoted;
    private long probeSinceNanos = -1;
    private long probeCpuTicks;

    private ModelHost(String owner, String name, Path dir, Path modelsDir, int threads, Process process,
            SocketChannel channel) {
        this.owner = owner;
        this.name = name;
        this.dir = dir;
        this.modelsDir = modelsDir;
        this.threads = threads;
        this.process = process;
        this.channel = channel;
    }

    /**
     * Starts a host and waits for its hello. Blocking: call it from a worker thread.
     *
     * @param onDeath told once, with the reason, when the host has gone (killed, crashed or stopped)
     */
    static ModelHost start(HostLauncher launcher, String owner, String name, Path dir, int threads, int intraOp,
            int interOp, boolean graphOptimizer, String device, Duration startTimeout,
            Consumer<ModelHost> onDeath) throws IOException {
        return start(launcher, owner, name, dir, threads, intraOp, interOp, graphOptimizer, device,
                JobPriority.NORMAL, startTimeout, onDeath);
    }

    /** As {@link #start}, its processes scheduled at {@code priority}. */
    static ModelHost start(HostLauncher launcher, String owner, String name, Path dir, int threads, int intraOp,
            int interOp, boolean graphOptimizer, String device, JobPriority priority, Duration startTimeout,
            Consumer<ModelHost> onDeath) throws IOException {
        Path models = Files.createDirectories(dir.resolve("models"));
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        // a Unix socket path has at most 107 bytes: a short private folder of its own, not the host's
        // (possibly deep) folder; removed once the host has connected
        Path socketDir = Files.createTempDirectory("mmh");
        Path socket = socketDir.resolve("host.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        Process process = null;
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
            List<String> cmd = launcher.command(models, scratch, socket, threads, intraOp, interOp,
                    graphOptimizer, device, priority);
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Process p = process;
            Thread logs = new Thread(() -> forwardLog(name, p.getInputStream()), "host-log-" + name);
            logs.setDaemon(true);
            logs.start();
            SocketChannel channel = accept(server, p, startTimeout);
            ModelHost host = new ModelHost(owner, name, dir, models, threads, p, channel);
            InputStream in = new java.io.DataInputStream(new BufferedInputStream(HostMain.input(channel), 1 << 16));
            Frame hello = HostProtocol.read(in, 1024);
            if (hello == null || hello.type() != HostProtocol.HELLO) {
                throw new IOException("the model host did not say hello");
            }
            host.startThreads(in, onDeath);
            LOG.info("model host {} for {} started: pid {}, {} compute thread(s)", name, owner, p.pid(), threads);
            return host;
        } catch (IOException | RuntimeException e) {
            if (process != null) {
                killTree(process);
            }
            throw e;
        } finally {
            server.close();
            Files.deleteIfExists(socket);
            Files.deleteIfExists(socketDir);
        }
    }

    private static SocketChannel accept(ServerSocketChannel server, Process p, Duration timeout) throws IOException {
        server.configureBlocking(false);
        long until = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < until) {
            SocketChannel ch = server.accept();
            if (ch != null) {
                ch.configureBlocking(true);
                return ch;
            }
            if (!p.isAlive()) {
                throw new IOException("the model host exited with " + p.exitValue() + " before it connected");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        throw new IOException("the model host did not connect within " + timeout);
    }

    private void startThreads(InputStream in, Consumer<ModelHost> onDeath) {
        this.onDeath = onDeath;
        Thread reader = new Thread(() -> readAnswers(in), "host-reader-" + name);
        reader.setDaemon(true);
        reader.start();
        Thread writer = new Thread(this::writeFrames, "host-writer-" + name);
        writer.setDaemon(true);
        writer.start();
        process.onExit().thenRun(() -> {
            String why = deathReason != null ? deathReason : "the model host exited with " + process.exitValue();
            died(why);
            exited.tryComplete(why);
        });
    }

    /**
     * Sends a call. Its promise fails with {@link OverloadedException} if the host dies first, or
     * with {@link DeadlineExceededException} if the host is killed because this call overran.
     *
     * @param deadlineNanos {@link System#nanoTime()} by which it must have been answered, plus the
     *     kill grace; {@code Long.MAX_VALUE} for none
     */
    Future<Frame> call(byte type, String what, long deadlineNanos, Consumer<Writer> body) {
        return call(type, () -> what, deadlineNanos, body, null);
    }

    /** As {@link #call(byte, String, long, Consumer)}, the description built only if a message needs it (a batch per call). */
    Future<Frame> call(byte type, Supplier<String> what, long deadlineNanos, Consumer<Writer> body) {
        return call(type, what, deadlineNanos, body, null);
    }

    /**
     * As {@link #call(byte, String, long, Consumer)}, and {@code progress} is given every {@link
     * HostProtocol#PROGRESS} frame the host sends with the call's id before it answers (on the
     * reader thread: keep it short).
     */
    Future<Frame> call(byte type, String what, long deadlineNanos, Consumer<Writer> body, Consumer<Frame> progress) {
        return call(type, () -> what, deadlineNanos, body, progress);
    }

    private Future<Frame> call(byte type, Supplier<String> what, long deadlineNanos, Consumer<Writer> body,
                               Consumer<Frame> progress) {
        long id = ids.incrementAndGet();
        Writer w = new Writer(type, id);
        body.accept(w);
        Promise<Frame> promise = Promise.promise();
        if (deathReason != null) {
            return Future.failedFuture(gone(deathReason));
        }
        calls.put(id, new Call(promise, deadlineNanos, what, System.nanoTime(), type == HostProtocol.RUN, progress));
        if (deathReason != null) { // died while the call was registered
            Call c = calls.remove(id);
            if (c != null) {
                return Future.failedFuture(gone(deathReason));
            }
        }
        outbox.add(w.frame());
        return promise.future();
    }

    /** Kills the host if a call has run past its deadline by more than {@code graceNanos}. */
    void checkDeadlines(long now, long graceNanos) {
        for (Map.Entry<Long, Call> e : calls.entrySet()) {
            Call c = e.getValue();
            if (!demoted && c.batch && now - c.sentNanos > DEMOTE_AFTER_NANOS) {
                considerDemotion(c.what.get(), now);
            }
            if (c.deadlineNanos != Long.MAX_VALUE && now - c.deadlineNanos > graceNanos) {
                Call overran = calls.remove(e.getKey());
                if (overran != null) {
                    String why = "model host " + name + " killed: " + c.what.get() + " ran "
                            + (now - c.deadlineNanos) / 1_000_000 + " ms past its deadline";
                    overran.promise.tryFail(new DeadlineExceededException(why, true,
                            new BatchWorker.BrokenException(why, null)));
                    kill(why);
                }
                return;
            }
        }
    }

    /** A batch runs long: demote the host if, over a probe window, it used the CPU rather than waited for it. */
    private void considerDemotion(String what, long now) {
        if (probeSinceNanos < 0 || now - probeSinceNanos > 10 * DEMOTE_PROBE_NANOS) {
            probeSinceNanos = now;
            probeCpuTicks = cpuTicks();
            return;
        }
        long window = now - probeSinceNanos;
        if (window < DEMOTE_PROBE_NANOS) {
            return;
        }
        long ticks = cpuTicks() - probeCpuTicks;
        double share = ticks * (1e9 / TICKS_PER_SECOND) / window;
        if (share >= DEMOTE_CPU_SHARE) {
            demote(what);
        } else {
            LOG.debug("model host {}: {} runs long but the host computed {}% of the last {} ms; not demoted", name, what,
                    Math.round(share * 100), window / 1_000_000);
            probeSinceNanos = now;
            probeCpuTicks = ticks + probeCpuTicks;
        }
    }

    /**
     * CPU time of the sandbox's compute threads ({@code host-compute}, and PyTorch's threads they
     * started, which inherit the name), in ticks: the model's own work, not the host JVM's JIT
     * compiler or collector warming up. 0 where /proc cannot tell (no demotion then).
     */
    private long cpuTicks() {
        List<Long> pids = new ArrayList<>(List.of(process.pid()));
        process.descendants().forEach(h -> pids.add(h.pid()));
        long total = 0;
        for (long pid : pids) {
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : (Iterable<Path>) tasks::iterator) {
                    try {
                        if (!Files.readString(task.resolve("comm")).startsWith(HostMain.COMPUTE_THREAD)) {
                            continue;
                        }
                        String stat = Files.readString(task.resolve("stat"));
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        total += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14 and 15)
                    } catch (IOException | RuntimeException e) {
                        // the thread ended meanwhile
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the process ended meanwhile, or no /proc
            }
        }
        return total;
    }

    /** Lowers every process of the sandbox to nice 19, off the caller's thread. */
    private void demote(String what) {
        demoted = true;
        List<Long> pids = new ArrayList<>(List.of(process.pid()));
        process.descendants().forEach(h -> pids.add(h.pid()));
        Thread t = new Thread(() -> {
            // Linux schedules threads: every thread of every process of the sandbox, by its id
            List<String> cmd = new ArrayList<>(List.of("renice", "-n", "19", "-p"));
            for (long pid : pids) {
                try (var tasks = Files.list(Path.of("/proc", "" + pid, "task"))) {
                    tasks.forEach(task -> cmd.add(task.getFileName().toString()));
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                LOG.warn("model host {}: renice failed: {}", name, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "host-demote-" + name);
        t.setDaemon(true);
        t.start();
        LOG.info("model host {}: {} computes for more than {} ms; the host now runs at the lowest priority", name,
                what, DEMOTE_AFTER_NANOS / 1_000_000);
    }

    boolean busy() {
        return !calls.isEmpty();
    }

    boolean alive() {
        return deathReason == null;
    }

    long pid() {
        return process.pid();
    }

    /** The host's resident memory: every process of its sandbox, read from /proc (0 if unknown). */
    long residentBytes() {
        long total = 0;
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        process.descendants().forEach(all::add);
        for (ProcessHandle h : all) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", "" + h.pid(), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        total += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // gone meanwhile
            }
        }
        return total;
    }

    boolean stoppedOnPurpose() {
        return stoppedOnPurpose;
    }

    long ageNanos() {
        return System.nanoTime() - startedNanos;
    }

    void markIdle() {
        idleSinceNanos = System.nanoTime();
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    /** SIGKILL to every process of the sandbox; calls in flight fail at once. */
    void kill(String why) {
        if (deathReason == null) {
            deathReason = why;
            LOG.warn("{}", why);
        }
        killTree(process);
        died(why);
    }

    /** Closes the socket: the host exits by itself; it is killed if it has not within a second. */
    Future<String> stop() {
        stoppedOnPurpose = true;
        if (deathReason == null) {
            deathReason = "model host " + name + " stopped";
        }
        outbox.add(CLOSE);
        Promise<String> done = Promise.promise();
        exited.future().onComplete(ar -> done.tryComplete(ar.result()));
        process.onExit().orTimeout(1, TimeUnit.SECONDS).whenComplete((p, err) -> {
            if (err != null) {
                killTree(process);
            }
        });
        return done.future();
    }

    private void died(String why) {
        if (deathReason == null) {
            deathReason = why;
        }
        // the owner hears first, so that the models count as lost before their calls fail and ask for
        // replacement workers
        if (mourned.compareAndSet(false, true)) {
            try {
                onDeath.accept(this);
            } catch (RuntimeException e) {
                LOG.warn("model host {}: death listener failed", name, e);
            }
        }
        for (Long id : new ArrayList<>(calls.keySet())) {
            Call c = calls.remove(id);
            if (c != null) {
                c.promise.tryFail(gone(deathReason));
            }
        }
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private OverloadedException gone(String why) {
        return new OverloadedException("the model host of this publisher stopped (" + why + "); retry",
                Duration.ofSeconds(1), new BatchWorker.BrokenException(why, null));
    }

    private void readAnswers(InputStream in) {
        try {
            for (Frame f = HostProtocol.read(in, MAX_ANSWER_BYTES); f != null; f = HostProtocol.read(in, MAX_ANSWER_BYTES)) {
                if (f.type() == HostProtocol.PROGRESS) {
                    Call open = calls.get(f.id());
                    if (open != null && open.progress != null) {
                        open.progress.accept(f);
                    }
                    continue;
                }
                Call c = calls.remove(f.id());
                if (c == null) {
                    continue; // an answer after its call was given up, or a made-up id
                }
                c.promise.tryComplete(f);
            }
        } catch (IOException e) {
            if (deathReason == null) {
                kill("model host " + name + " broke its protocol: " + e.getMessage());
            }
        }
        if (deathReason == null) {
            kill("model host " + name + " closed its socket");
        }
    }

    private void writeFrames() {
        try {
            while (true) {
                byte[] frame = outbox.take();
                if (frame == CLOSE) {
                    channel.shutdownOutput();
                    return;
                }
                ByteBuffer buf = ByteBuffer.wrap(frame);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            }
        } catch (IOException | InterruptedException e) {
            if (deathReason == null) {
                kill("model host " + name + " stopped reading: " + e.getMessage());
            }
        }
    }

    private static void forwardLog(String name, InputStream out) {
        Logger log = LoggerFactory.getLogger("modelmarket.host." + name);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(out, StandardCharsets.UTF_8))) {
            long windowStart = System.nanoTime();
            int lines = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                long now = System.nanoTime();
                if (now - windowStart > 1_000_000_000L) {
                    windowStart = now;
                    lines = 0;
                }
                if (++lines <= 50) { // a host cannot flood the platform's log
                    log.info("{}", line.length() > 500 ? line.substring(0, 500) + "…" : line);
                }
            }
        } catch (IOException e) {
            // the host is gone
        }
    }

    static void killTree(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
