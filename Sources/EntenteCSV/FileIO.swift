#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes through the C library (`fopen`, `fread`, `fwrite`).
enum FileIO {
    /// The bytes of a file.
    static func read(_ path: String) throws(CSVError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw CSVError(.unreadableFile, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                return fread(base, 1, buffer.count, file)
            }
            bytes.append(contentsOf: chunk[0..<got])
            if got < chunk.count { break }
        }
        if ferror(file) != 0 {
            throw CSVError(.unreadableFile, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return bytes
    }

    /// Replaces a file's contents with `text` (UTF-8).
    static func write(_ text: String, to path: String) throws(CSVError) {
        guard let file = fopen(path, "wb") else {
            throw CSVError(.unwritableFile, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var text = text
        let written = text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return 0 }
            return fwrite(base, 1, bytes.count, file)
        }
        let closed = fclose(file)
        if written != text.utf8.count || closed != 0 {
            throw CSVError(.unwritableFile, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
