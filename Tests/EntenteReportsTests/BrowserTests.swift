import EntenteCore
import EntenteReports
import EntenteTestSupport
import Foundation
import Testing

/// Renders the HTML report in a real (headless) browser.
///
/// The browser is Debian's `chromium-headless-shell`, or the binary named by `ENTENTE_CHROMIUM`. A missing browser fails the suite with the install command; it never passes
/// silently.
@Suite(.serialized) struct BrowserTests {
    static let installHint = "apt-get install -y chromium-headless-shell (or set ENTENTE_CHROMIUM to a Chromium binary)"

    static var browserPath: String {
        ProcessInfo.processInfo.environment["ENTENTE_CHROMIUM"] ?? "/usr/bin/chromium-headless-shell"
    }

    /// A fresh directory under the system temporary directory.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("entente-reports-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    struct BrowserMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "No headless Chromium at \(path). Install it: \(BrowserTests.installHint)" }
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String

        /// Lines where the browser reports JavaScript or console problems.
        ///
        /// The page has no script at all, so any console line means something ran that should not have.
        var javaScriptErrors: [String] {
            stderr.split(separator: "\n").map(String.init).filter {
                $0.contains("Uncaught") || $0.contains("ERROR:CONSOLE") || $0.contains(":CONSOLE")
            }
        }
    }

    /// Runs the browser on `page` with `arguments`, killing it after 90 s.
    static func browse(_ page: URL, _ arguments: [String], in directory: URL) async throws -> Run {
        let binary = browserPath
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BrowserMissing(path: binary)
        }
        let out = directory.appendingPathComponent("stdout-\(UUID().uuidString).txt")
        let err = directory.appendingPathComponent("stderr-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--hide-scrollbars", "--enable-logging=stderr",
                "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
            ] + arguments + [page.absoluteString]
        process.standardOutput = outHandle
        process.standardError = errHandle
        let child = try ChildProcess(starting: process)
        if await !child.exit(within: .seconds(90)) {
            child.terminate()
            await child.exit()
            Issue.record("\(binary) did not finish within 90 s")
        }
        return Run(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    static func write(_ html: String, named name: String, in directory: URL) throws -> URL {
        let file = directory.appendingPathComponent(name)
        try Data(html.utf8).write(to: file)
        return file
    }

    @Test func browserIsInstalled() {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.browserPath),
            "No headless Chromium at \(Self.browserPath). Install it: \(Self.installHint)"
        )
    }

    @Test func screenshotShowsTheCharts() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = try Fixture.report(.partner, hidePrivate: true)
        let page = try Self.write(renderHTML(report), named: "report.html", in: directory)
        let blank = try Self.write(
            "<!DOCTYPE html><html><body style=\"background:#fff\"></body></html>",
            named: "blank.html",
            in: directory
        )

        let shot = directory.appendingPathComponent("report.png")
        let run = try await Self.browse(page, ["--screenshot=\(shot.path)", "--window-size=1280,2000"], in: directory)
        #expect(run.status == 0, "browser exited with \(run.status): \(run.stderr)")
        #expect(run.javaScriptErrors.isEmpty, "JavaScript errors: \(run.javaScriptErrors)")
        let blankShot = directory.appendingPathComponent("blank.png")
        _ = try await Self.browse(blank, ["--screenshot=\(blankShot.path)", "--window-size=1280,2000"], in: directory)

        let bytes = [UInt8](try Data(contentsOf: shot))
        #expect(Array(bytes.prefix(8)) == PNG.signature)
        let size = try PNG.size(bytes)
        #expect(size.width == 1280 && size.height == 2000)
        let blankBytes = try Data(contentsOf: blankShot).count
        #expect(bytes.count > 4 * blankBytes, "screenshot \(bytes.count) bytes vs blank page \(blankBytes)")

        let image = try PNG(bytes)
        let white = image.count(red: 255, green: 255, blue: 255, tolerance: 0)
        #expect(white < image.width * image.height * 95 / 100, "the page is (almost) all white")
        #expect(image.distinctColours > 50)
        // Every chart painted its bars: pipeline teal, sourced blue, influenced amber, win-ratio violet; and the
        // private-values banner its amber background.
        let colours: [(String, UInt8, UInt8, UInt8)] = [
            ("pipeline #0f766e", 0x0F, 0x76, 0x6E), ("sourced #2563eb", 0x25, 0x63, 0xEB),
            ("influenced #f59e0b", 0xF5, 0x9E, 0x0B), ("win ratio #7c3aed", 0x7C, 0x3A, 0xED),
            ("banner #fef3c7", 0xFE, 0xF3, 0xC7),
        ]
        for (name, red, green, blue) in colours {
            let pixels = image.count(red: red, green: green, blue: blue)
            #expect(pixels > 500, "\(name): \(pixels) pixels")
        }
        if let keep = ProcessInfo.processInfo.environment["ENTENTE_REPORT_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shot.path, toPath: keep)
            try renderHTML(report).write(toFile: keep + ".html", atomically: true, encoding: .utf8)
        }
    }

    @Test func renderedDOMHasTheChartsAndNoInjectedMarkup() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The hostile report: partner names and the title carry <script>, "onload= and <img onerror>.
        let page = try Self.write(renderHTML(try EscapingTests.report()), named: "hostile.html", in: directory)
        let run = try await Self.browse(page, ["--dump-dom"], in: directory)
        #expect(run.status == 0, "browser exited with \(run.status): \(run.stderr)")
        #expect(run.javaScriptErrors.isEmpty, "JavaScript errors: \(run.javaScriptErrors)")
        let dom = run.stdout
        #expect(dom.components(separatedBy: "<svg").count - 1 == 3)
        for chart in ["pipeline-by-stage", "sourced-vs-influenced", "win-ratio-by-partner"] {
            #expect(dom.contains("data-chart=\"\(chart)\""), "missing chart \(chart)")
        }
        #expect(!dom.contains("<script"))
        #expect(!dom.contains("<img"))
        // No tag carries an event-handler attribute (the planted `"onload=` stays text: `&quot;` is serialised
        // back to `"` in text nodes, so look inside tags only; `<` and `>` in text are always `&lt;`/`&gt;`).
        let tags = dom.components(separatedBy: "<").dropFirst().map { $0.prefix { $0 != ">" } }
        let handlers = tags.filter { tag in
            tag.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().contains {
                $0.lowercased().hasPrefix("on")
            }
        }
        #expect(handlers.isEmpty, "event handlers in \(handlers)")
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    /// The error detector is not vacuous: a page with a failing script is caught.
    @Test func detectsJavaScriptErrors() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = try Self.write(
            "<!DOCTYPE html><html><body><script>missingFunction();</script></body></html>",
            named: "broken.html",
            in: directory
        )
        let run = try await Self.browse(page, ["--dump-dom"], in: directory)
        #expect(run.javaScriptErrors.contains { $0.contains("Uncaught ReferenceError") })
    }
}
