package io.extentflow.sinks.nbd;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.NbdException;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * An NBD export as a target: WRITE, WRITE_ZEROES (or zeros written as data when the server has no
 * WRITE_ZEROES; never TRIM) and FLUSH.
 *
 * <p>An NBD export's previous content is unknown, so the sink never claims to be known zero; a caller
 * who knows better says so with {@code CopyOptions.withTargetIsZero(true)}. Opening fails, before any
 * data moves, when the export is read-only or its size differs from the image's.
 */
public final class NbdSink implements ImageSink {

    private final NbdClient client;
    private final boolean allocateZeroes;

    /**
     * @param client         a connected client; the sink owns it and closes it
     * @param allocateZeroes zero with NO_HOLE, keeping zeroed ranges allocated on the server
     */
    public NbdSink(NbdClient client, boolean allocateZeroes) {
        this.client = client;
        this.allocateZeroes = allocateZeroes;
    }

    /**
     * Connects to {@code address} and opens it for writing an image of {@code size} bytes.
     *
     * @param allocateZeroes zero with NO_HOLE
     */
    public static Mono<NbdSink> open(NbdAddress address, long size, NbdClientOptions options, boolean allocateZeroes) {
        return open(address, Mono.just(size), options, allocateZeroes);
    }

    /**
     * Connects to {@code address} while the image's {@code size} is still to come (its source opening
     * at the same time), then opens the export for writing an image of that size. When {@code size}
     * fails, or the opening is cancelled, the connections are closed.
     *
     * @param allocateZeroes zero with NO_HOLE
     */
    public static Mono<NbdSink> open(NbdAddress address, Mono<Long> size, NbdClientOptions options,
            boolean allocateZeroes) {
        return NbdClient.connect(address, options).flatMap(c -> size
                .onErrorResume(e -> c.closeGracefully().onErrorResume(x -> Mono.empty()).then(Mono.error(e)))
                .flatMap(s -> checked(c, address, s, allocateZeroes))
                .doOnCancel(c::close));
    }

    private static Mono<NbdSink> checked(NbdClient c, NbdAddress address, long size, boolean allocateZeroes) {
        String problem = null;
        if (c.info().readOnly()) {
            problem = "the export is read-only";
        } else if (c.size() != size && size != ImageSource.UNKNOWN_SIZE) {
            // a stream (size unknown until its end) is written into the export as it is; a frame
            // past its end fails as a request outside the export
            problem = "the export has " + c.size() + " bytes but the image has " + size;
        }
        if (problem != null) {
            return c.closeGracefully().then(Mono.error(new NbdException("open", address.toString(), 0, size,
                    problem, NbdException.NO_ERROR_VALUE, false, null)));
        }
        return Mono.just(new NbdSink(c, allocateZeroes));
    }

    /** The client, e.g. for its {@link NbdClient#info()}. */
    public NbdClient client() {
        return client;
    }

    @Override
    public String endpoint() {
        return client.address().toString();
    }

    @Override
    public long size() {
        return client.size();
    }

    /** {@link NbdClient#PREFERRED_WRITE_SIZE}: servers spend less per byte on larger writes. */
    @Override
    public int preferredRequestSize() {
        return NbdClient.PREFERRED_WRITE_SIZE;
    }

    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(false, client.info().maximumPayload(), NbdClient.MAX_ZERO_REQUEST,
                client.connections());
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        return client.write(offset, data);
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return client.writeZeroes(offset, length, allocateZeroes, false);
    }

    @Override
    public Mono<Void> flush() {
        return client.flush();
    }

    @Override
    public void close() {
        client.close();
    }

    /** Completes once every connection to the export is closed. */
    @Override
    public Mono<Void> closeGracefully() {
        return client.closeGracefully();
    }
}
