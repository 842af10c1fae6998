package io.extentflow.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.io.BlockingIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Logger;
import java.util.zip.CRC32C;
import reactor.core.publisher.Mono;

/**
 * The daemon's store on disk: an append-only file of JSON records, one a line, each prefixed by the
 * CRC-32C of its JSON ({@code 1a2b3c4d {"op":...}}).
 *
 * <p>Why a journal: an append of one short line followed by {@code fdatasync} is the cheapest write
 * that survives a crash, and a crash at any moment leaves at worst a torn last line, which
 * {@link #replay} recognises by its checksum (or missing newline) and ignores. {@link #rewrite}
 * compacts it at start: the new file is written and synced aside, then renamed over the old one
 * (atomic), and the directory synced, so a crash during compaction leaves one file or the other.
 *
 * <p>Appends never block the caller: they are queued and written in order on the file I/O
 * scheduler, several per sync when they come together. An append, once started, is never
 * interrupted (cancelling a file write interrupts its thread, which would close the journal).
 */
final class Journal implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    /** Guarded by {@link #writeLock}. */
    private FileChannel channel;
    /** Records in the file; written under {@link #writeLock}, read without it. */
    private volatile long records;
    private final Queue<byte[]> pending = new ConcurrentLinkedQueue<>();
    private final Object writeLock = new Object();

    private Journal(Path file, FileChannel channel, long records) {
        this.file = file;
        this.channel = channel;
        this.records = records;
    }

    /** The records of {@code file} in order, without a torn or damaged tail; none when it does not exist. Blocking. */
    static List<ObjectNode> replay(Path file) throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        byte[] bytes = Files.readAllBytes(file);
        int start = 0;
        int lineNo = 0;
        while (start < bytes.length) {
            lineNo++;
            int end = indexOf(bytes, (byte) '\n', start);
            if (end < 0) {
                LOG.warning(file + ": ignoring a torn last record (line " + lineNo + ", no newline)");
                break;
            }
            ObjectNode record = decode(bytes, start, end);
            if (record == null) {
                // a bad checksum can only come from a torn write at the end; anything after it is not trusted
                LOG.warning(file + ": ignoring a damaged record at line " + lineNo + " and everything after it");
                break;
            }
            out.add(record);
            start = end + 1;
        }
        return out;
    }

    /**
     * Replaces {@code file} by a journal holding exactly {@code records} (crash-safe: written aside,
     * synced, renamed, directory synced) and opens it for appending. Blocking.
     */
    static Journal rewrite(Path file, List<ObjectNode> records) throws IOException {
        return new Journal(file, replaceFile(file, records), records.size());
    }

    /** Writes {@code records} aside, syncs, renames over {@code file}, syncs the directory; opens it for appending. */
    private static FileChannel replaceFile(Path file, List<ObjectNode> records) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (ObjectNode r : records) {
                writeFully(out, encode(r));
            }
            out.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
        return FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /**
     * Compacts the file while the daemon runs: what is queued is written first, then
     * {@code snapshot} (the state it describes, taken now) replaces the file. Appends queued meanwhile
     * go to the new file. Completes when done; never interrupted.
     */
    Mono<Void> compact(java.util.function.Supplier<List<ObjectNode>> snapshot) {
        return Mono.fromFuture(BlockingIo.run(() -> {
            synchronized (writeLock) {
                drain();
                List<ObjectNode> now = snapshot.get();
                FileChannel old = channel;
                channel = replaceFile(file, now);
                records = now.size();
                old.close();
            }
        }).toFuture(), true);
    }

    /** Records in the file now (the rewritten ones plus those appended since). */
    long records() {
        return records;
    }

    /** Appends {@code record}; completes once it is on disk (synced). Never blocks the caller. */
    Mono<Void> append(ObjectNode record) {
        pending.add(encode(record));
        // subscribed now and not cancellable: a cancelled caller does not interrupt the write
        return Mono.fromFuture(BlockingIo.run(this::drain).toFuture(), true);
    }

    /** Writes every queued record in order, then syncs. Records queued before this call are on disk after it. */
    private void drain() throws IOException {
        synchronized (writeLock) {
            boolean wrote = false;
            for (byte[] r = pending.poll(); r != null; r = pending.poll()) {
                writeFully(channel, r);
                records++;
                wrote = true;
            }
            if (wrote) {
                channel.force(false);
            }
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (writeLock) {
            channel.close();
        }
    }

    static byte[] encode(ObjectNode record) {
        try {
            byte[] json = JSON.writeValueAsBytes(record);
            CRC32C crc = new CRC32C();
            crc.update(json);
            byte[] prefix = String.format("%08x ", crc.getValue()).getBytes(StandardCharsets.US_ASCII);
            byte[] line = new byte[prefix.length + json.length + 1];
            System.arraycopy(prefix, 0, line, 0, prefix.length);
            System.arraycopy(json, 0, line, prefix.length, json.length);
            line[line.length - 1] = '\n';
            return line;
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a journal record", e);
        }
    }

    /** The record in {@code bytes[start, end)}, or null when its checksum or JSON is wrong. */
    private static ObjectNode decode(byte[] bytes, int start, int end) {
        if (end - start < 10 || bytes[start + 8] != ' ') {
            return null;
        }
        try {
            long expected = Long.parseLong(new String(bytes, start, 8, StandardCharsets.US_ASCII), 16);
            CRC32C crc = new CRC32C();
            crc.update(bytes, start + 9, end - start - 9);
            if (crc.getValue() != expected) {
                return null;
            }
            return JSON.readValue(bytes, start + 9, end - start - 9, ObjectNode.class);
        } catch (NumberFormatException | IOException e) {
            return null;
        }
    }

    private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static int indexOf(byte[] bytes, byte value, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
