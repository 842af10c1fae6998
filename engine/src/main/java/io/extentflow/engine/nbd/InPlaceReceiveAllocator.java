package io.extentflow.engine.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;

/**
 * The receive buffers of an NBD connection's channel. While a read's data payload is arriving, the
 * channel reads straight into that read's own target buffer, so the payload is never copied from a
 * receive buffer into the target (that copy, and Netty's buffers for it, were a few percent of an NBD
 * → file copy's CPU time, on a machine where the client and the server share the CPUs). To get there the next reply header is read on its own when a read is waiting for data, so
 * its payload does not spill into an ordinary buffer: two system calls per reply, as libnbd does.
 * Any other bytes go to ordinary buffers of the size {@link Targets#nextReadSize()} asks for.
 *
 * <p>Only correct when the channel's bytes reach the
 * {@link io.extentflow.engine.nbd.message.NbdFrameDecoder} as read (no TLS or other decoding in
 * front of it), which is how {@link NbdConnection} sets it up.
 */
final class InPlaceReceiveAllocator extends DefaultMaxMessagesRecvByteBufAllocator {

    /** Where the next socket read should land; called on the channel's event loop. */
    interface Targets {
        /**
         * A buffer wrapping the exact region where the next incoming bytes belong, at most as large
         * as the bytes expected there, or {@code null} to use an ordinary receive buffer.
         */
        ByteBuf receiveTarget();

        /** The read into the buffer from {@link #receiveTarget()} is over, whatever its outcome. */
        void receiveEnded();

        /** The size of an ordinary receive buffer for the next read. */
        int nextReadSize();
    }

    private final Targets targets;

    InPlaceReceiveAllocator(Targets targets) {
        this.targets = targets;
    }

    @Override
    public Handle newHandle() {
        return new MaxMessageHandle() {
            @Override
            public ByteBuf allocate(ByteBufAllocator alloc) {
                ByteBuf target = targets.receiveTarget();
                return target != null ? target : alloc.ioBuffer(guess());
            }

            @Override
            public int guess() {
                return targets.nextReadSize();
            }

            @Override
            public void lastBytesRead(int bytes) {
                // called right after the read system call: from here on nothing writes into a target
                targets.receiveEnded();
                super.lastBytesRead(bytes);
            }

            @Override
            public void readComplete() {
                // also reached when the read system call failed, before any lastBytesRead
                targets.receiveEnded();
                super.readComplete();
            }
        };
    }
}
