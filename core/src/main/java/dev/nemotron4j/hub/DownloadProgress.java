package dev.nemotron4j.hub;

/**
 * Progress of one file download.
 *
 * @param file       the file's name in the repository, e.g. {@code model.safetensors}
 * @param bytesDone  bytes on disk so far, including any resumed part
 * @param totalBytes the file's size, or -1 when the server did not say
 */
public record DownloadProgress(String file, long bytesDone, long totalBytes) {
    /** True for the last report of a file, sent once it is fully downloaded. */
    public boolean complete() {
        return totalBytes >= 0 && bytesDone >= totalBytes;
    }
}
