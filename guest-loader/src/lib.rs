//! Guest images: ELF32, MetaROUTER import archives, INRD initrd, boot arguments, file store (portable, no_std)
#![no_std]
