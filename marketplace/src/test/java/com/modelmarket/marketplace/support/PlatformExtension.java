package com.modelmarket.marketplace.support;

import com.modelmarket.marketplace.Platform;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Starts the platform of a {@link StartedPlatform} class on a Vert.x instance of its own (so that it
 * does not matter whether the class also uses {@code VertxExtension}) and resolves {@link Platform}
 * and {@link Api} parameters. The class's own {@code @AfterAll} methods run before it stops.
 */
public final class PlatformExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(PlatformExtension.class);

    /** What one test class holds: its Vert.x, its platform and a client of it. */
    private record Started(Vertx vertx, Platform platform, Api api) {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Map<String, String> overrides = overrides(context.getRequiredTestClass());
        Vertx vertx = Vertx.vertx();
        Platform platform;
        try {
            platform = TestPlatform.startOnFreshDatabase(vertx, overrides);
        } catch (RuntimeException e) {
            vertx.close();
            throw e;
        }
        context.getStore(NAMESPACE).put(Started.class, new Started(vertx, platform, new Api(vertx, platform.port())));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Started started = context.getStore(NAMESPACE).remove(Started.class, Started.class);
        if (started != null) {
            try {
                started.api().close();
                TestPlatform.stop(started.platform());
            } finally {
                started.vertx().close().await(1, TimeUnit.MINUTES);
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == Platform.class || type == Api.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Started started = context.getStore(NAMESPACE).get(Started.class, Started.class);
        if (started == null) {
            throw new ParameterResolutionException("no platform was started for " + context.getDisplayName());
        }
        return parameter.getParameter().getType() == Platform.class ? started.platform() : started.api();
    }

    private static Map<String, String> overrides(Class<?> testClass) {
        Map<String, String> overrides = new HashMap<>();
        AnnotationSupport.findAnnotation(testClass, StartedPlatform.class).ifPresent(a -> {
            for (String pair : a.value()) {
                int eq = pair.indexOf('=');
                if (eq < 1) {
                    throw new IllegalArgumentException("@StartedPlatform override is not key=value: " + pair);
                }
                overrides.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        });
        return overrides;
    }
}
