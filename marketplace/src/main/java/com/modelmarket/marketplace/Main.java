package com.modelmarket.marketplace;

import com.modelmarket.marketplace.cluster.Clustering;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts ModelMarket with the configuration from the environment; stops it cleanly on SIGTERM. */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.setProperty("ai.djl.offline", "true");
        AppConfig config;
        try {
            config = ConfigLoader.fromEnvironment();
        } catch (IllegalArgumentException e) {
            System.err.println("Configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        VertxOptions options = new VertxOptions()
                .setBlockedThreadCheckInterval(1000)
                .setMaxEventLoopExecuteTime(2)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS)
                .setWarningExceptionTime(2)
                .setWarningExceptionTimeUnit(TimeUnit.SECONDS);
        Vertx vertx;
        try {
            vertx = Clustering.vertx(options, config.cluster()).await(2, TimeUnit.MINUTES); // plain unless cluster.enabled
        } catch (Exception e) {
            LOG.error("ModelMarket could not join its cluster", e);
            System.exit(1);
            return;
        }
        Platform platform;
        try {
            platform = Platform.start(vertx, config).await(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            LOG.error("ModelMarket failed to start", e);
            vertx.close();
            System.exit(1);
            return;
        }
        String host = "0.0.0.0".equals(config.httpHost()) ? "localhost" : config.httpHost();
        System.out.println();
        System.out.println("ModelMarket is up: http://" + host + ":" + platform.port() + "/");
        System.out.println("  data directory: " + config.dataDir());
        System.out.println("  database:       " + platform.services().database().target()
                + (config.dbUrl().isPresent() ? "" : " (embedded)"));
        System.out.println("  readiness:      http://" + host + ":" + platform.port() + "/health/ready");
        platform.demoCredentials().ifPresent(demo -> demo.lines().forEach(line -> System.out.println("  " + line)));
        System.out.println();

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean clean = new AtomicBoolean();
        Runnable shutdown = () -> {
            try {
                // Two awaits: a continuation of the first future would be dispatched to an event loop
                // that closing Vert.x has just shut down, and never run.
                platform.stop().await(STOP_SECONDS, TimeUnit.SECONDS);
                vertx.close().await(10, TimeUnit.SECONDS);
                clean.set(true);
            } catch (Exception e) {
                LOG.warn("Shutdown did not finish cleanly: {}", e.toString());
            } finally {
                stopped.countDown();
            }
        };
        // SIGTERM (and Ctrl-C) drain in-flight requests, flush usage and stop the database, then
        // exit 0 — or 1 if that did not finish in time. Without this handler the JVM would exit 143.
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> new Thread(() -> {
                shutdown.run();
                if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logs) {
                    logs.stop(); // flush the asynchronous appender: halt() skips the JVM's hooks
                }
                Runtime.getRuntime().halt(clean.get() ? 0 : 1);
            }, "modelmarket-" + name.toLowerCase(java.util.Locale.ROOT)).start());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stopped.getCount() > 0) {
                shutdown.run();
            }
        }, "modelmarket-shutdown"));
        stopped.await();
    }

    /**
     * The bound on a graceful stop: HTTP drain (new requests 503, those in flight answered; 10 s at
     * most), serving drain, connections closed, meter flush, database stop.
     */
    public static final long STOP_SECONDS = 45;
}
