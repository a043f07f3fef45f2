using System.Runtime.CompilerServices;

// The JPEG tests check internal pieces (quality scaling, optimal Huffman tables, Huffman table validation) directly.
[assembly: InternalsVisibleTo("NeuralStyle.Imaging.Tests")]
