package io.extentflow.sinks.qcow2;

import io.extentflow.engine.qcow2.Qcow2Format;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The backing file of an overlay being written: where its name leads, its format and its virtual
 * size. qemu resolves a relative backing name from the directory of the overlay, so the sink does
 * too.
 *
 * @param name     the name as it goes into the header
 * @param resolved where that name leads
 * @param format   {@code raw} or {@code qcow2}
 * @param size     its virtual size in bytes
 */
record BackingFile(String name, Path resolved, String format, long size) {

    /**
     * Checks the backing file {@code name} of the overlay {@code image}: it must exist, be of
     * {@code format} (null: probed by the qcow2 magic) and have the virtual size {@code imageSize}.
     * Blocking.
     *
     * @throws IOException one line naming the backing file and what is wrong with it
     */
    static BackingFile probe(Path image, String name, String format, long imageSize) throws IOException {
        Path given = Path.of(name);
        Path parent = image.toAbsolutePath().getParent();
        Path resolved = given.isAbsolute() || parent == null ? given : parent.resolve(given);
        String shown = given.isAbsolute() ? name : name + " (" + resolved + ")";
        if (!Files.exists(resolved)) {
            throw new IOException("backing file " + shown + " does not exist");
        }
        if (Files.isDirectory(resolved)) {
            throw new IOException("backing file " + shown + " is a directory");
        }
        try (FileChannel ch = FileChannel.open(resolved, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(Qcow2Format.HEADER_SIZE + 8);
            while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
                // reads until the buffer is full or the file ends
            }
            boolean qcow2 = head.position() >= 4 && head.getInt(0) == Qcow2Format.MAGIC;
            String actual = format != null ? format : qcow2 ? "qcow2" : "raw";
            long size;
            if (actual.equals("qcow2")) {
                if (!qcow2) {
                    throw new IOException("backing file " + shown + " is not a qcow2 image (bad magic), but qcow2 was given as its format");
                }
                if (head.position() < head.capacity()) {
                    throw new IOException("backing file " + shown + " is too short for a qcow2 header");
                }
                size = head.getLong(Qcow2Format.HEADER_SIZE);
            } else {
                size = ch.size();
            }
            if (size != imageSize) {
                throw new IOException("backing file " + shown + " has virtual size " + Long.toUnsignedString(size)
                        + " but the image has " + imageSize + "; an overlay must have its backing file's size");
            }
            return new BackingFile(name, resolved, actual, size);
        }
    }
}
