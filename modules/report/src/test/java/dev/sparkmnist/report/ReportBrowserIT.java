package dev.sparkmnist.report;

import dev.sparkmnist.evaluation.EpochRow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The report opened in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, installed by
 * {@code .ci/run}): every image loads, the tables hold the run's figures, and a screenshot is kept under target/.
 */
class ReportBrowserIT {
    static final String CHROMIUM = System.getProperty("chromium.binary", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getProperty("chromedriver.binary", "/usr/bin/chromedriver");
    private static final Path OUT = Paths.get("target", "report-browser");
    private static RunFixture run;
    private static HtmlReport.Built built;
    private static ChromeDriver browser;

    @BeforeAll
    static void openReport() throws IOException {
        for (String binary : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!new File(binary).canExecute()) {
                throw new IllegalStateException(binary + " is missing: install Debian's chromium and chromium-driver"
                    + " (apt-get install chromium chromium-driver; .ci/run does) to run the browser test");
            }
        }
        run = RunFixture.fit(ModelOptions.lenet(), 2);
        built = HtmlReport.build(run.data, run.net, RunFixture.NORM, run.digits);
        for (Map.Entry<String, byte[]> file : built.files().entrySet()) {
            Path p = OUT.resolve(file.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, file.getValue());
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        // root in containers needs --no-sandbox; a fixed window makes the screenshot comparable between runs
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1400,2400");
        ChromeDriverService service = new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER)).build();
        browser = new ChromeDriver(service, options);
        browser.get(OUT.resolve(HtmlReport.HTML).toAbsolutePath().toUri().toString());
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void everyImageLoaded() {
        List<WebElement> images = browser.findElements(By.tagName("img"));
        assertEquals(built.figures().size(), images.size());
        for (WebElement img : images) {
            Object ok = ((JavascriptExecutor) browser).executeScript(
                "return arguments[0].complete && arguments[0].naturalWidth > 0 && arguments[0].naturalHeight > 0;",
                img);
            assertEquals(Boolean.TRUE, ok, "image loaded: " + img.getAttribute("alt"));
        }
    }

    @Test
    void tablesHoldTheRunsFigures() {
        List<WebElement> rows = browser.findElements(By.cssSelector("#epochs tr"));
        assertEquals(RunFixture.EPOCHS + 1, rows.size(), "header + one row per epoch");
        for (int i = 0; i < RunFixture.EPOCHS; i++) {
            EpochRow e = run.data.epochs().get(i);
            List<WebElement> cells = rows.get(i + 1).findElements(By.tagName("td"));
            assertEquals(Integer.toString(e.epoch()), cells.get(0).getText());
            assertEquals(String.format(Locale.ROOT, "%.4f", e.trainLoss()), cells.get(1).getText());
            assertEquals(String.format(Locale.ROOT, "%.4f", e.testLoss()), cells.get(2).getText());
            assertEquals(String.format(Locale.ROOT, "%.2f", 100 * e.testAccuracy()), cells.get(3).getText());
        }
        List<WebElement> classes = browser.findElements(By.cssSelector("#classes tr"));
        assertEquals(11, classes.size());
        for (int c = 0; c < 10; c++) {
            List<WebElement> cells = classes.get(c + 1).findElements(By.tagName("td"));
            assertEquals(String.format(Locale.ROOT, "%.4f", run.data.test().recall()[c]), cells.get(2).getText());
        }
        assertEquals(String.format(Locale.ROOT, "%.2f%%", 100 * run.data.test().accuracy()),
            browser.findElement(By.id("final-accuracy")).getText());
    }

    @Test
    void screenshotIsKept() throws IOException {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path kept = Paths.get("target", "report-screenshot.png");
        Files.copy(shot.toPath(), kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(kept.toFile());
        assertTrue(png.getWidth() > 1000 && png.getHeight() > 1000, "the window: " + png.getWidth() + "x"
            + png.getHeight());
        // the charts were painted where the page laid them out: every chart inside the screenshot shows many
        // colours (axes, lines, labels), where a broken image or an empty box would show one or two
        int checked = 0;
        for (WebElement img : browser.findElements(By.tagName("img"))) {
            @SuppressWarnings("unchecked")
            List<Number> r = (List<Number>) ((JavascriptExecutor) browser).executeScript("const b = arguments[0]"
                + ".getBoundingClientRect(); return [b.left, b.top, b.width, b.height];", img);
            int x = r.get(0).intValue();
            int y = r.get(1).intValue();
            int w = r.get(2).intValue();
            int h = r.get(3).intValue();
            if (w < 50 || h < 50 || x < 0 || y < 0 || x + w > png.getWidth() || y + h > png.getHeight()) {
                continue; // below the window, or a small digit picture
            }
            java.util.Set<Integer> colours = new java.util.HashSet<>();
            for (int yy = y; yy < y + h; yy += 2) {
                for (int xx = x; xx < x + w; xx += 2) {
                    colours.add(png.getRGB(xx, yy));
                }
            }
            assertTrue(colours.size() > 16, img.getAttribute("alt") + " painted " + colours.size() + " colours");
            checked++;
        }
        assertTrue(checked >= 2, "charts inside the screenshot: " + checked);
    }
}
