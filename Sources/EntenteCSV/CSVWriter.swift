/// Writes RFC 4180 CSV text: a header, then rows, with CRLF line endings by default.
///
/// A cell is quoted when it holds a comma, a quote, a CR or an LF, or starts or ends with a space or a tab;
/// a quote inside is written twice. Cells are written as given: a cell starting with `=`, `+`, `-` or `@` is
/// not altered (see "Formula injection" in `Specs/csv.md`), so that an export re-imports exactly.
///
/// ```swift
/// var writer = CSVWriter(header: ["id", "name"])
/// writer.append(["1", "Acme, Inc."])
/// print(writer.text)  // id,name\r\n1,"Acme, Inc."\r\n
/// ```
public struct CSVWriter: Sendable {
    /// The line ending written after each row.
    public enum LineEnding: String, Hashable, Sendable {
        /// `\r\n`, as RFC 4180 specifies (and as spreadsheets expect).
        case crlf = "\r\n"
        /// `\n`.
        case lf = "\n"
    }

    /// The text written so far.
    public private(set) var text: String

    private let lineEnding: String

    /// Starts a file with its header row.
    /// - Parameters:
    ///   - header: the column names.
    ///   - lineEnding: written after every row, the last included.
    ///   - byteOrderMark: start with a UTF-8 byte-order mark (helps spreadsheets detect UTF-8).
    public init(header: [String], lineEnding: LineEnding = .crlf, byteOrderMark: Bool = false) {
        self.init(lineEnding: lineEnding, byteOrderMark: byteOrderMark)
        append(header)
    }

    /// Starts rows that continue a file whose header was written before (an export written a page at a time).
    init(lineEnding: LineEnding, byteOrderMark: Bool = false) {
        self.text = byteOrderMark ? "\u{FEFF}" : ""
        self.lineEnding = lineEnding.rawValue
    }

    /// Appends one row.
    ///
    /// A row made of a single empty cell is written `""`, so it is not read as a blank line.
    public mutating func append(_ row: [String]) {
        if row.count == 1 && row[0].isEmpty {
            text += "\"\"" + lineEnding
            return
        }
        for (index, cell) in row.enumerated() {
            if index > 0 { text += "," }
            text += Self.quoted(cell)
        }
        text += lineEnding
    }

    /// The cell as written in a CSV file: quoted if needed, quotes doubled.
    public static func quoted(_ cell: String) -> String {
        guard needsQuotes(cell) else { return cell }
        var out = "\""
        for character in cell.unicodeScalars {
            if character == "\"" { out.unicodeScalars.append("\"") }
            out.unicodeScalars.append(character)
        }
        return out + "\""
    }

    private static func needsQuotes(_ cell: String) -> Bool {
        let bytes = cell.utf8
        guard let first = bytes.first, let last = bytes.last else { return false }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        return bytes.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
    }
}
