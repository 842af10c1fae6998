package io.extentflow.server;

import io.extentflow.engine.ImageSource;
import io.netty.buffer.ByteBuf;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The bytes of a download as a stream of the server's pooled buffers. The next buffer is read only
 * when one of the request's {@code window} buffers came back from the socket (Netty released it
 * after writing it, or dropped it because the client left), so a client that stops reading holds
 * exactly {@code window} buffers and pushes back on the disk.
 */
final class DownloadStream {

    private final ImageSource source;
    private final ServerBuffers buffers;
    private final AsyncPermits window;

    DownloadStream(ImageSource source, ServerBuffers buffers, int window) {
        this.source = source;
        this.buffers = buffers;
        this.window = new AsyncPermits(window);
    }

    /** {@code [offset, offset + length)} in buffers of the server's chunk size. */
    Flux<ByteBuf> chunks(long offset, long length) {
        int chunk = buffers.chunkSize();
        long end = offset + length;
        return Flux.<Long, Long>generate(() -> offset, (pos, sink) -> {
                    if (pos >= end) {
                        sink.complete();
                    } else {
                        sink.next(pos);
                    }
                    return pos + chunk;
                })
                .concatMap(pos -> readChunk(pos, (int) Math.min(chunk, end - pos)), 1)
                // a buffer dropped between the read and the socket (the client left) is released
                .doOnDiscard(ByteBuf.class, Transfers::release);
    }

    /** One pooled buffer filled at {@code pos}; its release by Netty returns the buffer and the permit. */
    private Mono<ByteBuf> readChunk(long pos, int n) {
        return Mono.create(sink -> {
            Chunk chunk = new Chunk(sink, pos, n);
            sink.onCancel(chunk::cancel);
            chunk.start();
        });
    }

    /**
     * The steps of one buffer: a permit of the window, a pooled buffer, the read, the hand-over.
     * A cancel at any step gives back exactly what was taken; a read already running is not
     * cancelled (see {@link Transfers#detached}) and gives its buffer back when it ends. The steps
     * and the cancel meet under this object's lock.
     */
    private final class Chunk {
        private final reactor.core.publisher.MonoSink<ByteBuf> sink;
        private final long pos;
        private final int n;
        private reactor.core.Disposable waiting;
        private boolean permit;
        private java.nio.ByteBuffer buffer;
        private boolean cancelled;

        Chunk(reactor.core.publisher.MonoSink<ByteBuf> sink, long pos, int n) {
            this.sink = sink;
            this.pos = pos;
            this.n = n;
        }

        void start() {
            reactor.core.Disposable d = window.acquire().subscribe(null, sink::error, this::permitted);
            synchronized (this) {
                if (!permit && !cancelled) {
                    waiting = d;
                }
            }
        }

        private void permitted() {
            synchronized (this) {
                if (cancelled) {
                    // the cancel came first and found no permit to give back
                    window.release();
                    return;
                }
                permit = true;
            }
            reactor.core.Disposable d = buffers.acquire().subscribe(this::bufferReady, sink::error);
            synchronized (this) {
                if (buffer == null && !cancelled) {
                    waiting = d;
                }
            }
        }

        private void bufferReady(java.nio.ByteBuffer b) {
            boolean keep;
            boolean releasePermit = false;
            synchronized (this) {
                keep = !cancelled;
                if (keep) {
                    buffer = b;
                } else {
                    releasePermit = permit;
                    permit = false;
                }
            }
            if (!keep) {
                buffers.release(b);
                if (releasePermit) {
                    window.release();
                }
                return;
            }
            b.clear().limit(n);
            source.read(pos, b).subscribe(null, this::failed, this::read);
        }

        private void failed(Throwable e) {
            giveBack();
            sink.error(e);
        }

        private void read() {
            boolean abandoned;
            synchronized (this) {
                abandoned = cancelled;
            }
            if (abandoned) {
                giveBack();
                return;
            }
            sink.success(new ChunkByteBuf(buffer.flip(), this::giveBack));
        }

        private void giveBack() {
            buffers.release(buffer);
            window.release();
        }

        void cancel() {
            reactor.core.Disposable d;
            boolean release;
            synchronized (this) {
                if (cancelled) {
                    return;
                }
                cancelled = true;
                d = waiting;
                // a held permit without a buffer yet: its buffer acquire is disposed below, so give it back
                release = permit && buffer == null;
                if (release) {
                    permit = false;
                }
            }
            if (d != null) {
                d.dispose();
            }
            if (release) {
                window.release();
            }
        }
    }
}
