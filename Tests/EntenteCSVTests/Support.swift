#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Temporary files for tests that read from disk.
enum TemporaryFile {
    struct Failure: Error {}

    /// A fresh empty directory.
    static func directory() throws -> String {
        var template = Array("/tmp/entente-csv-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let made else { throw Failure() }
        return made
    }

    /// Writes `text` to a new file and returns its path.
    static func write(_ text: String, name: String = "data.csv") throws -> String {
        let path = try directory() + "/" + name
        guard let file = fopen(path, "wb") else { throw Failure() }
        defer { fclose(file) }
        var text = text
        let written = text.withUTF8 { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == text.utf8.count else { throw Failure() }
        return path
    }

    /// The text of a file.
    static func read(_ path: String) throws -> String {
        guard let file = fopen(path, "rb") else { throw Failure() }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = chunk.withUnsafeMutableBufferPointer { fread($0.baseAddress, 1, $0.count, file) }
            bytes += chunk[0..<got]
            if got < chunk.count { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
