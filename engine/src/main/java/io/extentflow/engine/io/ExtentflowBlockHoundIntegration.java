package io.extentflow.engine.io;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Teaches BlockHound what blocks in this stack: positional {@code FileChannel} I/O (which BlockHound
 * does not see by default) and our FFM system calls. Also allows one known false positive of
 * Netty 4.2.17 and 4.2.18's adaptive allocator (fixed upstream in Netty 4.2.20's own integration).
 *
 * <p>Registered as a service, so any application that installs BlockHound picks it up.
 */
public final class ExtentflowBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.markAsBlocking("sun.nio.ch.FileChannelImpl", "read", "(Ljava/nio/ByteBuffer;J)I")
                .markAsBlocking("sun.nio.ch.FileChannelImpl", "write", "(Ljava/nio/ByteBuffer;J)I")
                .markAsBlocking("sun.nio.ch.FileChannelImpl", "read", "(Ljava/nio/ByteBuffer;)I")
                .markAsBlocking("sun.nio.ch.FileChannelImpl", "write", "(Ljava/nio/ByteBuffer;)I")
                .markAsBlocking("sun.nio.ch.FileChannelImpl", "force", "(Z)V")
                .markAsBlocking(Posix.class, "open", "(Ljava/lang/String;II)I")
                .markAsBlocking(Posix.class, "lseek", "(IJI)J")
                .markAsBlocking(Posix.class, "fallocate", "(IIJJ)V")
                .markAsBlocking(Posix.class, "fdatasync", "(I)V")
                .markAsBlocking(Posix.class, "ftruncate", "(IJ)V")
                .markAsBlocking(Posix.class, "allocatedBytes", "(Ljava/nio/file/Path;)J")
                .markAsBlocking(Posix.class, "copyFileRange", "(IJIJJ)J")
                .allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
    }
}
