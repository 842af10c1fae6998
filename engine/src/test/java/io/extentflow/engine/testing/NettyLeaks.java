package io.extentflow.engine.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty's leak detector reports a {@code ByteBuf} that was garbage collected
 * without being released. Use with {@code @ExtendWith(NettyLeaks.class)}; the test JVM runs with
 * {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer is tracked.
 *
 * <p>Netty only notices a leak after the buffer was collected and another buffer is allocated; so
 * after each test we ask for garbage collection and allocate a few buffers. This finds leaks
 * reliably in practice, though the JVM does not promise a collection.
 */
public final class NettyLeaks implements BeforeEachCallback, AfterEachCallback {

    private static final List<String> LEAKS = new ArrayList<>();
    private static volatile boolean installed;

    @Override
    public void beforeEach(ExtensionContext context) {
        install();
        collect();
        synchronized (LEAKS) {
            LEAKS.clear();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertNoLeaks();
    }

    /** Fails if a leak was reported since the last check. */
    public static void assertNoLeaks() {
        install();
        collect();
        synchronized (LEAKS) {
            if (!LEAKS.isEmpty()) {
                String first = LEAKS.get(0);
                int n = LEAKS.size();
                LEAKS.clear();
                throw new AssertionError(n + " Netty buffer leak(s) detected; first:\n" + first);
            }
        }
    }

    private static void collect() {
        for (int i = 0; i < 3; i++) {
            awaitGarbageCollection();
            for (ByteBufAllocator a : List.of(PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT,
                    ByteBufAllocator.DEFAULT)) {
                ByteBuf b = a.directBuffer(16);
                b.release();
                b = a.heapBuffer(16);
                b.release();
            }
        }
    }

    /**
     * Runs a collection and waits until the JVM has enqueued the references it cleared: a sentinel
     * object's phantom reference reaching our queue tells us the reference handler got this far.
     */
    private static void awaitGarbageCollection() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        PhantomReference<Object> sentinel = new PhantomReference<>(new Object(), queue);
        try {
            int tries = 0;
            do {
                System.gc();
            } while (queue.remove(100) == null && ++tries < 10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Reference.reachabilityFence(sentinel);
    }

    @SuppressWarnings("unchecked")
    private static synchronized void install() {
        if (installed) {
            return;
        }
        try {
            Field f = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
            f.setAccessible(true);
            ResourceLeakDetector<ByteBuf> detector = (ResourceLeakDetector<ByteBuf>) f.get(null);
            detector.setLeakListener((resourceType, records) -> {
                synchronized (LEAKS) {
                    LEAKS.add(resourceType + ": " + records);
                }
            });
            installed = true;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot watch Netty's leak detector: " + e, e);
        }
    }
}
