import EntenteCore
import EntenteCrypto
import Foundation

/// Reads and writes the secret key files of a node directory (`keys/*.key`, mode 0600).
///
/// Format: the line `ENTENTE-SECRET-KEY/1 <kind>`, then the key in hex, then a newline.
enum KeyFiles {
    static let header = "ENTENTE-SECRET-KEY/1"

    static func write(_ secret: [UInt8], kind: String, to url: URL) throws(EntenteError) {
        let text = "\(header) \(kind)\n\(Hex.encode(secret))\n"
        let created = FileManager.default.createFile(
            atPath: url.path,
            contents: Data(text.utf8),
            attributes: [.posixPermissions: 0o600]
        )
        guard created else { throw EntenteError(.keys, "cannot write key file \(url.path)") }
    }

    static func read(kind: String, from url: URL) throws(EntenteError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EntenteError(.keys, "key file \(url.path) is missing or unreadable")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count == 2, lines[0] == "\(header) \(kind)", let secret = Hex.decode(String(lines[1])) else {
            throw EntenteError(.keys, "key file \(url.path) is not a valid \(kind) key file")
        }
        return secret
    }
}
