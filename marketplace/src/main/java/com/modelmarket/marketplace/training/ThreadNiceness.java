package com.modelmarket.marketplace.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the CPU priority of the calling thread only (Linux schedules threads: {@code renice} of a
 * thread id touches no other thread). Java's thread priorities do nothing on Linux, so a training
 * thread lowers itself this way before it trains: inference (event loops at nice 0, model hosts at
 * nice 5) then comes first on a shared core. Threads it starts afterwards — PyTorch's intra-op pool,
 * when training is the first to use the engine in this JVM — inherit the value. Best effort: where
 * there is no {@code /proc/thread-self} or no {@code renice}, it logs once and does nothing.
 */
final class ThreadNiceness {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadNiceness.class);
    private static volatile boolean warned;

    private ThreadNiceness() {
    }

    /** Sets this thread's nice value to {@code nice} (0..19; 0 leaves it); true if it did. */
    static boolean lowerCurrentThread(int nice) {
        if (nice <= 0) {
            return false;
        }
        try {
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            Process p = new ProcessBuilder("renice", "-n", Integer.toString(nice), "-p", tid).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | UnsupportedOperationException e) {
            if (!warned) {
                warned = true;
                LOG.warn("cannot lower the priority of training threads ({}); they compete with inference as equals", e.toString());
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
