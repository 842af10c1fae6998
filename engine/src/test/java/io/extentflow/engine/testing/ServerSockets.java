package io.extentflow.engine.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The client connections a server process holds open, read from {@code /proc}: its socket
 * descriptors that are not listening sockets. A test that must see a client close every connection
 * waits for this to reach zero. Unlike a server's own log of disconnections (nbdkit's log filter
 * writes "Disconnect" only when a connection ends in good order), the server closing its end after
 * the client hung up is certain to happen.
 */
public final class ServerSockets {

    private ServerSockets() {
    }

    /** How many connected sockets process {@code pid} has open now. */
    public static int connections(long pid) {
        Set<String> listening = listeningInodes();
        int count = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                String inode = socketInode(fd);
                if (inode != null && !listening.contains(inode)) {
                    count++;
                }
            }
        } catch (NoSuchFileException e) {
            return 0; // the process is gone, and its sockets with it
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return count;
    }

    private static String socketInode(Path fd) {
        try {
            String target = Files.readSymbolicLink(fd).toString();
            return target.startsWith("socket:[") ? target.substring(8, target.length() - 1) : null;
        } catch (IOException e) {
            return null; // closed while we looked
        }
    }

    /** Inodes of every listening socket in this network namespace (Unix and TCP). */
    private static Set<String> listeningInodes() {
        Set<String> inodes = new HashSet<>();
        // /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = accepting
        for (String line : lines("/proc/net/unix")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 7 && f[3].equals("00010000")) {
                inodes.add(f[6]);
            }
        }
        // /proc/net/tcp{,6}: sl local remote st ... inode (10th field); st 0A = LISTEN
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : lines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 10 && f[3].equals("0A")) {
                    inodes.add(f[9]);
                }
            }
        }
        return inodes;
    }

    private static List<String> lines(String file) {
        try {
            List<String> all = Files.readAllLines(Path.of(file));
            return all.isEmpty() ? all : all.subList(1, all.size());
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
