package io.extentflow.cli;

import io.extentflow.engine.io.BlockingIo;
import reactor.core.publisher.Flux;

/**
 * The elements of a {@code Flux}, for a command's thread to go through one by one (and print).
 *
 * <p>{@code Flux.toIterable()} hands each element to the waiting thread under a lock. When the
 * elements come from a Netty event loop (an NBD or HTTP source's extents) and the command's thread
 * holds that lock at that moment, the event loop parks: a blocking call where none may be. In tests
 * BlockHound caught it, the element was lost with its error, and {@code map} hung; in production the
 * loop would stall. So the elements first move to a file I/O thread, which may wait for the lock.
 */
final class Each {

    private Each() {
    }

    /** The elements of {@code flux}, in order, for an ordinary thread to iterate. */
    static <T> Iterable<T> of(Flux<T> flux) {
        return flux.publishOn(BlockingIo.scheduler()).toIterable();
    }
}
