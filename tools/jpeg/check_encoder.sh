#!/bin/sh
# Encodes the enc_* fixtures with our encoder, then decodes them with libjpeg-turbo's djpeg into enc_*.pnm.gz.
# The test suite then checks (without djpeg) that our decoder agrees with djpeg on our encoder's output, and that the
# encoder still produces exactly these bytes. Run from the repository root.
set -e
FIX=tests/NeuralStyle.Imaging.Tests/Jpeg/Fixtures
dotnet run -c Release --project tools/jpeg/EncodeFixtures -- "$FIX"
for f in "$FIX"/enc_*.jpg; do
  djpeg -pnm "$f" | gzip -9 -n > "${f%.jpg}.pnm.gz"
  echo "djpeg decoded $f"
done
