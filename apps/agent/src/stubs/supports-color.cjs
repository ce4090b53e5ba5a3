// Stand-in for supports-color inside the bundle: colour detection is not needed by a service.
module.exports = { stdout: false, stderr: false };
